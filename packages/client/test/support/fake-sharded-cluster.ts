import { NotLeaderError } from '@synod/interfaces'
import { murmur3 } from '@synod/ring'
import { FakeStore, startFakeNode, type Behaviour, type FakeNode, type Received } from './fake-node.js'

/** Where one shard lives in the fake cluster. */
export interface FakePlacement {
  replicas: string[]
  leader: string
  preferredLeader: string
}

/** A `ShardMapView` as the wire carries it (the contract's shape, written out independently of the client's type). */
export interface WireShardMap {
  epoch: number
  shardCount: number
  nodes: Array<{ id: string, address: string, wsUrl?: string }>
  shards: Array<{ shard: number, replicas: string[], leader: string | null, preferredLeader: string, moving: boolean }>
}

export interface FakeShardedCluster {
  readonly nodes: FakeNode[]
  readonly shardCount: number
  /** The metadata epoch; bump it with every placement change. */
  epoch: number
  /** The truth: each shard's replicas and leader. */
  readonly placement: FakePlacement[]
  /** One replicated store per shard. */
  readonly stores: FakeStore[]
  /** Requests a replica forwarded inside the cluster (at most once each). */
  forwards: number
  /** Redirects sent (`ERR_NOT_LEADER`), with the node that sent each. */
  readonly redirects: Array<{ node: string, op: string, shard: number }>
  /** When set for a node, its answer to `shards` (a node with an old view); else the truth. */
  readonly answers: Map<string, () => WireShardMap>
  /** Scripted before the contract's behaviour; return undefined to fall through. */
  before: Behaviour | undefined
  node(id: string): FakeNode
  shardOf(key: string): number
  /** The map the cluster would answer now. */
  map(): WireShardMap
  stop(): Promise<void>
}

/** The contract's key-to-shard function, written here from `@synod/ring` rather than taken from the client. */
const shardOf = (key: string, shardCount: number): number => murmur3(key) % shardCount

/**
 * Three (or more) fake nodes serving a sharded cluster exactly as the wire contract says: `shards`
 * answers the map with each node's `wsUrl`; a keyed request reaching its shard's leader is served;
 * reaching another replica of the shard, it is forwarded inside the cluster once (a serializable
 * `get` is answered locally); reaching a node that does not host the shard, it is refused with
 * `ERR_NOT_LEADER` carrying `leaderHint`, `leaderUrl`, `shard` and `epoch`. `range` gathers every
 * shard, merged in key order.
 */
export async function startFakeShardedCluster (init: { ids: string[], placement: FakePlacement[], epoch?: number }): Promise<FakeShardedCluster> {
  const shardCount = init.placement.length
  const cluster: FakeShardedCluster = {
    nodes: [],
    shardCount,
    epoch: init.epoch ?? 1,
    placement: init.placement.map((entry) => ({ ...entry, replicas: [...entry.replicas] })),
    stores: init.placement.map(() => new FakeStore()),
    forwards: 0,
    redirects: [],
    answers: new Map(),
    before: undefined,
    node: (id) => {
      const found = cluster.nodes.find((node) => node.id === id)
      if (found === undefined) throw new Error(`no node ${id}`)
      return found
    },
    shardOf: (key) => shardOf(key, shardCount),
    map: () => ({
      epoch: cluster.epoch,
      shardCount,
      nodes: cluster.nodes.map((node) => ({ id: node.id, address: `tcp://${node.id}:7000`, wsUrl: node.address })),
      shards: cluster.placement.map((entry, shard) => ({ shard, replicas: [...entry.replicas], leader: entry.leader, preferredLeader: entry.preferredLeader, moving: false }))
    }),
    stop: async () => { await Promise.all(cluster.nodes.map(async (node) => { await node.stop() })) }
  }

  const behaviour: Behaviour = async (request, context, self) => {
    const scripted = await cluster.before?.(request, context, self)
    if (scripted !== undefined) return scripted
    if (request.op === 'shards') return (cluster.answers.get(self.id) ?? cluster.map)()
    if (request.op === 'range') return range(request)
    if (!['get', 'put', 'del', 'cas'].includes(request.op)) return undefined
    const shard = cluster.shardOf(request.key as string)
    const entry = cluster.placement[shard] as FakePlacement
    const store = cluster.stores[shard] as FakeStore
    if (!entry.replicas.includes(self.id)) {
      cluster.redirects.push({ node: self.id, op: request.op, shard })
      throw Object.assign(new NotLeaderError(`node ${self.id} does not host shard ${shard}`, { leaderHint: entry.leader }), {
        leaderUrl: cluster.node(entry.leader).address, shard, epoch: cluster.epoch
      })
    }
    const local = request.op === 'get' && request.consistency === 'serializable'
    if (entry.leader !== self.id && !local) cluster.forwards++
    if (request.op !== 'get') return store.write(request)
    const item = store.entries.get(request.key as string)
    return { revision: store.revision, item: item === undefined ? null : { key: request.key, ...item } }
  }

  function range (request: Received): unknown {
    const prefix = (request.prefix as string | undefined) ?? ''
    const limit = (request.limit as number | undefined) ?? 1000
    const rows = cluster.stores.flatMap((store) => [...store.entries].filter(([key]) => key.startsWith(prefix)))
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    return {
      revision: Math.max(...cluster.stores.map((store) => store.revision)),
      items: rows.slice(0, limit).map(([key, entry]) => ({ key, ...entry })),
      more: rows.length > limit
    }
  }

  for (const id of init.ids) {
    // `status` answers as a follower that knows no leader: in a sharded cluster there is no one leader.
    cluster.nodes.push(await startFakeNode({ id, store: new FakeStore(), role: 'follower', behaviour }))
  }
  return cluster
}
