import { murmur3 } from '@synod/ring'
import { BadResponseError } from '../errors.js'

/** One node as a shard map lists it. */
export interface ShardMapNode {
  readonly id: string
  /** The node's cluster (peer) address. */
  readonly address: string
  readonly zone?: string
  /** HTTP API base URL, when the node advertises one. */
  readonly apiUrl?: string
  /** Client API URL (`ws://` or `wss://`), where this client connects. */
  readonly wsUrl?: string
}

/** One shard's replicas and leader. */
export interface ShardMapShard {
  readonly shard: number
  /** Voters, in preference order. */
  readonly replicas: readonly string[]
  /** Best knowledge of the leader's node id (the answering node's, then this client's redirects), or null. */
  readonly leader: string | null
  readonly preferredLeader: string
  /** A move of this shard is in progress. */
  readonly moving: boolean
}

/**
 * A sharded cluster's routing table, as a node answers `{ op: 'shards' }` (and `GET /v1/shards`).
 * An unsharded cluster has `shardCount: 0`.
 */
export interface ShardMapView {
  /** Metadata epoch the map was built from; it grows with every membership or placement change. */
  readonly epoch: number
  readonly shardCount: number
  readonly nodes: readonly ShardMapNode[]
  readonly shards: readonly ShardMapShard[]
}

/** What an unsharded node (or one that predates sharding) amounts to. */
export const UNSHARDED: ShardMapView = Object.freeze({ epoch: 0, shardCount: 0, nodes: Object.freeze([]), shards: Object.freeze([]) })

/**
 * The shard of a key: MurmurHash3 (x86, 32-bit, seed 0) of its UTF-8 bytes modulo the shard count,
 * the function every Synod node uses, so client and cluster agree on every key.
 */
export function shardOfKey (key: string, shardCount: number): number {
  return murmur3(key) % shardCount
}

const isClientUrl = (value: unknown): value is string => typeof value === 'string' && /^wss?:\/\//.test(value)

/**
 * Checks an answer to `{ op: 'shards' }` and returns it as a frozen `ShardMapView`; throws
 * `ERR_BAD_RESPONSE` when its shape is wrong. Unknown fields are dropped; a `wsUrl` that is not a
 * WebSocket URL is ignored (the node is then reached only through others).
 */
export function parseShardMapView (value: unknown): ShardMapView {
  const bad = (what: string): never => { throw new BadResponseError(`malformed shard map: ${what}`) }
  if (typeof value !== 'object' || value === null) return bad('not a map')
  const map = value as Record<string, unknown>
  const { epoch, shardCount } = map
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) return bad('epoch')
  if (typeof shardCount !== 'number' || !Number.isSafeInteger(shardCount) || shardCount < 0) return bad('shardCount')
  if (!Array.isArray(map.nodes) || !Array.isArray(map.shards)) return bad('nodes or shards missing')
  const nodes = map.nodes.map((entry: unknown): ShardMapNode => {
    const node = (typeof entry === 'object' && entry !== null ? entry : bad('node')) as Record<string, unknown>
    if (typeof node.id !== 'string' || typeof node.address !== 'string') return bad('node id or address')
    return Object.freeze({
      id: node.id,
      address: node.address,
      ...(typeof node.zone === 'string' ? { zone: node.zone } : {}),
      ...(typeof node.apiUrl === 'string' ? { apiUrl: node.apiUrl } : {}),
      ...(isClientUrl(node.wsUrl) ? { wsUrl: node.wsUrl } : {})
    })
  })
  const shards = map.shards.map((entry: unknown): ShardMapShard => {
    const shard = (typeof entry === 'object' && entry !== null ? entry : bad('shard')) as Record<string, unknown>
    const index = shard.shard
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= shardCount) return bad('shard index')
    if (!Array.isArray(shard.replicas) || !shard.replicas.every((id) => typeof id === 'string')) return bad(`replicas of shard ${index}`)
    if (shard.leader !== null && typeof shard.leader !== 'string') return bad(`leader of shard ${index}`)
    if (typeof shard.preferredLeader !== 'string') return bad(`preferred leader of shard ${index}`)
    return Object.freeze({
      shard: index,
      replicas: Object.freeze([...shard.replicas]),
      leader: shard.leader,
      preferredLeader: shard.preferredLeader,
      moving: shard.moving === true
    })
  })
  return Object.freeze({ epoch, shardCount, nodes: Object.freeze(nodes), shards: Object.freeze(shards) })
}
