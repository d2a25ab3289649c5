import type { AbortOptions, Clock, Logger, Random, ReplicatedLogStatus } from '@synod/interfaces'
import type { PolicyName } from '@synod/balancer'
import type { LockClient, LockClientOptions, LockServer } from '@synod/lock'
import type { ShardMapView } from './routing/shard-map.js'
import type { Consistency } from './wire.js'

/** How to reach a Synod cluster. */
export interface ClientInit {
  /** Client API addresses of the nodes, `ws://host:port` (or `wss://`). At least one. */
  endpoints: string[]
  /** Bearer token the nodes require, sent on the WebSocket upgrade. @default undefined */
  token?: string | undefined
  /** How reads (and writes, while the leader is unknown) pick a node. @default 'p2c-peak-ewma' */
  policy?: PolicyName
  /** Deadline of a call, all retries included, unless the call gives its own `timeoutMs`. @default 10000 */
  timeoutMs?: number
  /**
   * Deadline of one attempt. When it passes, the attempt counts as lost (the request may have been
   * applied) and the call retries on another node if that is safe: reads always, writes when they
   * carry a session. Useful when a node can stop answering without its connection closing (a
   * network partition). @default undefined (an attempt may use the whole call deadline)
   */
  attemptTimeoutMs?: number
  /** How long opening one connection may take before the node counts as unreachable. @default 3000 */
  connectTimeoutMs?: number
  /** Retry schedule: exponential backoff with full jitter between attempts. */
  retry?: RetryOptions
  /**
   * Attach a session id and sequence number to every write so that the state machine applies it
   * once even when the client resends it after losing a connection. Turn it off only to talk to a
   * node without deduplication: writes whose fate is unknown are then never resent.
   * @default true
   */
  exactlyOnce?: boolean
  /** Session id prefix of this client instance. @default 16 random bytes, base64url */
  clientId?: string
  /** Largest response frame accepted. @default 16777216 */
  maxResponseBytes?: number
  /**
   * Ask the cluster for its shard map (on the first keyed call) and send each `get`, `put`, `del`
   * and `cas` to its key's shard leader. `false` sends them as to an unsharded cluster: still
   * correct, since any node serves any key, at the cost of redirects. @default true
   */
  shardRouting?: boolean
  /**
   * Shortest time between two automatic refreshes of the shard map (after a redirect shows the
   * map is stale, or a shard leader cannot be reached); it doubles after each failed refresh, up
   * to 64 times. Calls never wait for these refreshes. @default 250
   */
  shardMapRefreshMs?: number
}

export interface RetryOptions {
  /** Attempts per call, the first one included. @default 10 */
  maxAttempts?: number
  /** Upper bound of the first backoff; it doubles with each retry. @default 25 */
  baseDelayMs?: number
  /** Largest backoff. @default 1000 */
  maxDelayMs?: number
}

/** Injected dependencies, all optional. */
export interface ClientComponents {
  /** Timers for deadlines and backoff. @default the system clock (timers keep the process alive while a call waits) */
  clock?: Clock
  /** Backoff jitter and P2C choices; seed it to replay. @default Math.random */
  random?: Random
  /** @default silent */
  logger?: Logger
}

/** Options of every call. */
export interface CallOptions extends AbortOptions {
  /** Deadline of this call, retries included. @default the client's `timeoutMs` */
  timeoutMs?: number
}

export interface ReadOptions extends CallOptions {
  /** `serializable` answers from the chosen node's local state, possibly stale. @default 'linearizable' */
  consistency?: Consistency
}

export interface RangeOptions extends ReadOptions {
  /** Only keys starting with this. @default '' (every key) */
  prefix?: string
  /** At most this many keys, 1 to 10000. @default 1000 */
  limit?: number
}

export interface CasOptions extends CallOptions {
  /** Swap only if the current value equals this; `null`: only if the key is absent. @default undefined (not checked) */
  expectedValue?: Value | null
  /** Swap only if the key's modification revision equals this; 0: only if absent. @default undefined (not checked) */
  expectedRevision?: number
}

export interface StatusOptions extends CallOptions {
  /** Ask this endpoint, and only it, rather than one the balancer picks. @default undefined */
  endpoint?: string
}

/** A value: bytes, or a string sent as UTF-8. */
export type Value = string | Uint8Array

/** One key with its revisions. */
export interface KvItem {
  key: string
  value: Uint8Array
  /** Revision that created the key (since its last deletion). */
  createRevision: number
  /** Revision of its last change; `cas` can compare on it. */
  modRevision: number
  /** Changes since creation, 1 for a new key. */
  version: number
}

export interface RangeResult {
  /** Store revision the read observed. */
  revision: number
  items: KvItem[]
  /** True when `limit` cut the list short. */
  more: boolean
}

export interface WriteResult {
  /** False when a `del` found no key or a `cas` comparison failed. */
  ok: boolean
  /** Store revision after the write. */
  revision: number
  /** Log index of the write. */
  index: number
  /** The value before the write, when there was one. */
  previous?: Uint8Array | undefined
}

/** A client of a Synod cluster. Every call takes `{ signal, timeoutMs }`. */
export interface SynodClient {
  /** This instance's session id prefix (writes carry `<id>/<n>` plus a sequence number). */
  readonly id: string
  /** The key's item, or undefined when absent. Linearizable unless `consistency: 'serializable'`. */
  get(key: string, options?: ReadOptions): Promise<KvItem | undefined>
  /** Keys in order, by prefix, up to `limit`. */
  range(options?: RangeOptions): Promise<RangeResult>
  put(key: string, value: Value, options?: CallOptions): Promise<WriteResult>
  del(key: string, options?: CallOptions): Promise<WriteResult>
  /** Compare-and-swap on the current value, on the modification revision, or both. */
  cas(key: string, value: Value, options: CasOptions): Promise<WriteResult>
  /** Raft status of one node (the balancer's pick, or `options.endpoint`). */
  status(options?: StatusOptions): Promise<ReplicatedLogStatus>
  /** The endpoint this client believes leads, if it knows (unsharded clusters; see `shardMap()` for shard leaders). */
  leader(): string | undefined
  /**
   * The shard map this client routes by, with each shard's leader as redirects taught it since;
   * undefined until a keyed call or `refreshShardMap()` found the cluster sharded. Frozen: a new
   * object after each change. For tools and dashboards.
   */
  shardMap(): ShardMapView | undefined
  /**
   * Fetches the shard map now (joining a fetch in flight) and returns it; undefined when the cluster
   * is not sharded (its nodes answer `shardCount: 0`, or predate sharding). Rejects with the last
   * attempt's error when no node answered, `ERR_ABORTED` when `signal` fires.
   */
  refreshShardMap(options?: CallOptions): Promise<ShardMapView | undefined>
  /**
   * A lock client (`@synod/lock`'s `LockClient`) over this client's connections: sessions with
   * keepalives, FIFO `acquire`, `tryAcquire`, `withLock`, fencing tokens, read/write locks and
   * semaphores. Each call makes a new lock client with its own sessions; `close()` stops them all.
   */
  locks(options?: LockClientOptions): LockClient
  /**
   * The cluster as one `@synod/lock` `LockServer`, for `createLockClient({ servers: [client.lockServer] })`
   * when a lock client needs its own clock or logger. Requests go to the leader with this client's retries.
   * Stop such a lock client before `close()`: `close()` stops only the lock clients `locks()` made.
   */
  readonly lockServer: LockServer
  /** Stops every lock client made by `locks()` (closing their sessions), then closes every connection; calls in flight reject with `ERR_STOPPED`. Idempotent. */
  close(): Promise<void>
}
