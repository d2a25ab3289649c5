import { InvalidArgumentError, type NodeId } from '@synod/interfaces'
import { createVnodeRing, murmur3, type Ring, type RingNode } from '@synod/ring'
import type { GroupId } from './group-mux.js'

/**
 * The shard of a key: MurmurHash3 of its UTF-8 bytes modulo the shard count. Stable across
 * processes and versions (the hash is fixed), so every node and client routes a key alike. The
 * shard count is fixed when the cluster is created: changing it would move most keys.
 */
export function shardOfKey (key: string, shardCount: number): GroupId {
  return murmur3(key) % shardCount
}

/** Where one shard's replicas live. */
export interface ShardPlacement {
  shard: GroupId
  /** The shard's voters, in the ring's preference order. */
  replicas: NodeId[]
  /** The replica that should lead it, chosen so that leaders spread evenly over the nodes. */
  preferredLeader: NodeId
}

/** Options of `placeShards`. */
export interface PlacementInit {
  /** The cluster's nodes (`zone` spreads replicas over zones). */
  nodes: readonly RingNode[]
  shardCount: number
  /** Voters per shard; fewer when the cluster has fewer nodes. @default 3 */
  replicationFactor?: number
  /** Take replicas from distinct zones first. @default true when any node names a zone */
  spreadZones?: boolean
}

/** The ring key of a shard: the ring places shards, not keys. */
export function shardRingKey (shard: GroupId): string {
  return `shard/${shard}`
}

/** The ring that places shards on nodes (vnode ring: minimal moves, zone-aware replica sets). */
export function createPlacementRing (nodes: readonly RingNode[]): Ring {
  return createVnodeRing({ nodes })
}

/**
 * Places every shard's replicas with `@synod/ring` (a vnode ring over the nodes; replica sets are
 * the ring's preference lists), then picks each shard's preferred leader among its replicas: the
 * replica with the fewest preferred leaderships so far, ties broken by preference order. The ring
 * alone balances replicas; the greedy pass balances leaders, which carry the write load.
 */
export function placeShards (init: PlacementInit): ShardPlacement[] {
  if (!Number.isSafeInteger(init.shardCount) || init.shardCount < 1) {
    throw new InvalidArgumentError('shardCount must be a positive integer', { field: 'shardCount' })
  }
  if (init.nodes.length === 0) throw new InvalidArgumentError('placement needs at least one node', { field: 'nodes' })
  const ring = createPlacementRing(init.nodes)
  const replicas = Math.min(init.replicationFactor ?? 3, init.nodes.length)
  const spreadZones = init.spreadZones ?? init.nodes.some((node) => node.zone !== undefined)
  const leaderships = new Map<NodeId, number>()
  const placements: ShardPlacement[] = []
  for (let shard = 0; shard < init.shardCount; shard++) {
    const set = ring.lookup(shardRingKey(shard), replicas, { spreadZones })
    let preferredLeader = set[0] as NodeId
    for (const node of set) if ((leaderships.get(node) ?? 0) < (leaderships.get(preferredLeader) ?? 0)) preferredLeader = node
    leaderships.set(preferredLeader, (leaderships.get(preferredLeader) ?? 0) + 1)
    placements.push({ shard, replicas: set, preferredLeader })
  }
  return placements
}
