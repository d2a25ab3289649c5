import { InvalidArgumentError, type NodeId } from '@synod/interfaces'
import type { ClusterAdmin } from '../http/admin.js'
import { parseMembersRequest } from '../http/members.js'
import type { ShardHost } from '../sharding/index.js'

/** How long a membership request waits for the metadata group to record it. */
const RECORD_TIMEOUT_MS = 30_000

/**
 * The cluster routes of a sharded node. Membership lives in the metadata group: adding a member
 * records it there and rebalancing moves shard replicas onto it; removing one drains it (its
 * replicas move away first). Both answer once the change is recorded, not when the replicas have
 * moved: `GET /v1/status` (`sharding.rebalance`) shows the progress.
 */
export function createShardedAdmin (host: ShardHost, options: { status: () => object }): ClusterAdmin {
  function members (): object {
    const map = host.shardMap()
    const metadata = host.metadata()
    const draining = new Set<NodeId>(host.rebalanceStatus().draining)
    const hosted = new Map<NodeId, number>()
    for (const shard of map.shards) for (const id of shard.replicas) hosted.set(id, (hosted.get(id) ?? 0) + 1)
    return {
      epoch: map.epoch,
      members: map.nodes.map((node) => ({
        id: node.id,
        role: 'member',
        peerAddress: node.address,
        ...(node.apiUrl === undefined ? {} : { apiUrl: node.apiUrl }),
        ...(node.wsUrl === undefined ? {} : { wsUrl: node.wsUrl }),
        ...(node.zone === undefined ? {} : { zone: node.zone }),
        replicas: hosted.get(node.id) ?? 0,
        draining: draining.has(node.id)
      })),
      leader: host.lockLog()?.status().leader,
      shardCount: metadata?.shardCount ?? host.shardCount
    }
  }

  return {
    status: options.status,
    async snapshot () {
      // Every replica hosted here snapshots its own shard: a backup is the set, one per shard.
      const shards = await Promise.all(host.status().map(async ({ shard }) => {
        const replica = host.replica(shard)
        if (replica === undefined) return undefined
        const meta = await replica.raft.snapshot()
        return { shard, index: meta.index, term: meta.term, size: meta.size, checksum: meta.checksum }
      }))
      return { shards: shards.filter((shard) => shard !== undefined) }
    },
    // The metadata group's state as this node has applied it; a node that lags shows an older
    // epoch, which the answer carries.
    members: async () => members(),
    async changeMembers (body, { signal }) {
      const request = parseMembersRequest(body)
      const timeout = AbortSignal.timeout(RECORD_TIMEOUT_MS)
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
      switch (request.op) {
        case 'add': {
          const wsUrl = body.wsUrl
          if (wsUrl !== undefined && (typeof wsUrl !== 'string' || !/^wss?:\/\/\S+$/.test(wsUrl))) throw new InvalidArgumentError('wsUrl must be a ws:// or wss:// URL', { field: 'wsUrl' })
          const zone = body.zone
          if (zone !== undefined && typeof zone !== 'string') throw new InvalidArgumentError('zone must be a string', { field: 'zone' })
          await host.addMember({
            id: request.id,
            address: request.peerAddress,
            ...(request.apiUrl === undefined ? {} : { apiUrl: request.apiUrl }),
            ...(wsUrl === undefined ? {} : { wsUrl }),
            ...(zone === undefined ? {} : { zone })
          }, { signal: combined })
          break
        }
        case 'remove':
          await host.removeMember(request.id, { signal: combined })
          break
        case 'promote':
          throw new InvalidArgumentError('a sharded cluster places voters itself: add or remove members only', { field: 'op' })
      }
      return { view: members(), op: request.op, id: request.id }
    }
  }
}
