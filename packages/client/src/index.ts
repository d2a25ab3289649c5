/**
 * @packageDocumentation
 *
 * The client of a Synod cluster: the replicated key-value store and the lock service over
 * WebSocket and MessagePack.
 * It connects to a list of nodes, routes reads with `@synod/balancer` (P2C peak-EWMA by default)
 * and writes to the leader once known, follows leader hints, and retries with exponential backoff
 * and jitter only when a retry cannot apply a write twice: every write carries a session id and
 * sequence number the state machine deduplicates. Every call takes an AbortSignal and a deadline.
 * `client.locks()` is `@synod/lock`'s lock client over the same connections.
 *
 * In a sharded cluster the first keyed call fetches the shard map (`{ op: 'shards' }`); then each
 * `get`, `put`, `del` and `cas` goes to its key's shard leader (`murmur3(key) % shardCount`), and a
 * redirect from a node that no longer hosts the shard is followed at once while the map refreshes
 * in the background. Unsharded clusters and nodes that predate sharding keep the routing above.
 *
 * @example
 * ```ts
 * import { createClient } from '@synod/client'
 *
 * const client = createClient({ endpoints: ['ws://127.0.0.1:7101', 'ws://127.0.0.1:7102'] })
 * await client.put('greeting', 'hello')
 * const item = await client.get('greeting')
 * console.log(new TextDecoder().decode(item?.value))
 *
 * const lock = await client.locks().acquire('reports', { signal: AbortSignal.timeout(5000) })
 * console.log('fencing token', lock.token)
 * await lock.release()
 * await client.close()
 * ```
 */
export { createClient } from './client.js'
export { BadResponseError, UnavailableError } from './errors.js'
export type {
  CallOptions, CasOptions, ClientComponents, ClientInit, KvItem, RangeOptions, RangeResult, ReadOptions,
  RetryOptions, StatusOptions, SynodClient, Value, WriteResult
} from './options.js'
export type { Consistency } from './wire.js'
export { shardOfKey, type ShardMapNode, type ShardMapShard, type ShardMapView } from './routing/shard-map.js'
export { CLUSTER_LOCK_SERVER_ID } from './locks/lock-server.js'
export type { AcquireOptions, Lock, LockClient, LockClientEvents, LockClientOptions, LockServer } from '@synod/lock'
