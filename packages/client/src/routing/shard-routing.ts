import { isSynodError, type AbortOptions, type Clock, type Logger } from '@synod/interfaces'
import type { ConnectionPool } from '../transport/connection-pool.js'
import type { Consistency } from '../wire.js'
import type { Route, Router } from './router.js'
import type { ShardMapView } from './shard-map.js'
import { ShardMapRefresher, type ShardMapFetch } from './shard-refresh.js'
import { ShardTable } from './shard-table.js'

export interface ShardRoutingInit {
  router: Router
  pool: ConnectionPool
  fetch: ShardMapFetch
  /** Endpoints the user listed: always kept, whatever the map says. */
  endpoints: readonly string[]
  minRefreshIntervalMs: number
  clock: Clock
  logger: Logger
}

/** What an `ERR_NOT_LEADER` from a sharded node carries besides its message. */
interface Redirect { leaderHint?: unknown, leaderUrl?: unknown, shard?: unknown, epoch?: unknown }

/**
 * Routing of keyed calls in a sharded cluster. The cluster's mode is learned lazily: the first
 * keyed call asks a node for its shard map. Until a map with shards arrives (an unsharded
 * cluster, a node too old to know the request, a map that could not be fetched) this routes
 * nothing and the client keeps its unsharded routing. With a map, a keyed call goes to its
 * shard's leader, a serializable read to any of the shard's replicas. A redirect updates the
 * shard's leader and, when it shows the map is stale or names no reachable leader, refreshes
 * the map in the background while the call follows the hint.
 */
export class ShardRouting {
  readonly #router: Router
  readonly #pool: ConnectionPool
  readonly #listed: ReadonlySet<string>
  readonly #logger: Logger
  readonly #refresher: ShardMapRefresher
  #mode: 'unknown' | 'unsharded' | 'sharded' = 'unknown'
  #table: ShardTable | undefined
  /** Endpoints added because a map listed them (not by the user): removed when a map drops them. */
  readonly #learned = new Set<string>()
  /**
   * The newest epoch a redirect announced, and who announced it. A refresh that was already under
   * way when the redirect came may bring an older map; one more is then asked for, of that node.
   */
  #announced: { epoch: number, by: string, retried: boolean } | undefined

  constructor (init: ShardRoutingInit) {
    this.#router = init.router
    this.#pool = init.pool
    this.#listed = new Set(init.endpoints)
    this.#logger = init.logger
    this.#refresher = new ShardMapRefresher({
      fetch: init.fetch,
      apply: (map) => { this.#apply(map) },
      onBackgroundError: (error) => { this.#logger.debug({ err: (error as Error).message }, 'shard map refresh failed') },
      minIntervalMs: init.minRefreshIntervalMs
    }, init.clock)
  }

  /**
   * Whether a keyed call should wait for the cluster's mode before routing. While the last attempt
   * to learn it failed too recently, the call goes on without, and the next attempt is scheduled
   * for when the interval ends.
   */
  needsDiscovery (): boolean {
    if (this.#mode !== 'unknown') return false
    if (this.#refresher.inFlight || this.#refresher.mayStart()) return true
    this.#refresher.refreshSoon()
    return false
  }

  /**
   * Learns whether the cluster is sharded, for a keyed call about to route. A failure only means
   * this call routes as in an unsharded cluster (any node serves any key, redirecting if needed).
   * Rejects only with `ERR_ABORTED` when `signal` fires.
   */
  async discover (signal: AbortSignal): Promise<void> {
    try {
      await this.#refresher.refresh({ signal })
    } catch (error) {
      if (signal.aborted) throw error
      this.#logger.debug({ err: (error as Error).message, code: (error as { code?: unknown }).code }, 'no shard map; routing as unsharded for now')
    }
  }

  /** Fetches the map now (joining a fetch in flight); the current view, undefined when unsharded. */
  async refresh (options: AbortOptions = {}): Promise<ShardMapView | undefined> {
    await this.#refresher.refresh(options)
    return this.view()
  }

  /** The map as this client routes by it; undefined until a sharded map was fetched. */
  view (): ShardMapView | undefined {
    return this.#table?.view()
  }

  /**
   * The endpoint for one attempt of a keyed call; undefined when the cluster is not known to be
   * sharded (the caller then routes as before). `preferred` is a redirect's target.
   */
  route (key: string, kind: 'read' | 'write', consistency: Consistency | undefined, exclude: ReadonlySet<string>, preferred: string | undefined): Route | undefined {
    const table = this.#table
    if (table === undefined) return undefined
    if (preferred !== undefined && !exclude.has(preferred)) return { endpoint: preferred, complete: noop }
    const shard = table.shardOf(key)
    if (kind === 'read' && consistency === 'serializable') {
      const replicas = table.replicaUrls(shard)
      if (replicas.length > 0) return this.#router.routeAmong(replicas, exclude)
    }
    const leader = table.leaderUrl(shard, exclude)
    // No replica of the shard is reachable: any node forwards or redirects.
    return leader === undefined ? this.#router.route('read', exclude) : { endpoint: leader, complete: noop }
  }

  /**
   * Handles `ERR_NOT_LEADER` for a keyed call. Returns undefined when the answer is not about a
   * shard and the client is not routing by shards (the caller follows the hint as before), else
   * `{ next }`, the endpoint to try at once if the redirect names one.
   */
  followRedirect (from: string, key: string, error: unknown): { next: string | undefined } | undefined {
    const redirect = error as Redirect
    const table = this.#table
    const shard = typeof redirect.shard === 'number' ? redirect.shard : table?.shardOf(key)
    if (shard === undefined) return undefined
    const epoch = typeof redirect.epoch === 'number' ? redirect.epoch : undefined
    const hintId = typeof redirect.leaderHint === 'string' && redirect.leaderHint.length > 0 ? redirect.leaderHint : undefined
    const hintUrl = typeof redirect.leaderUrl === 'string' && /^wss?:\/\//.test(redirect.leaderUrl) ? redirect.leaderUrl : undefined
    let next = hintUrl ?? (hintId === undefined ? undefined : table?.urlOf(hintId) ?? this.#router.endpointOf(hintId))
    if (next === from) next = undefined
    if (next !== undefined) {
      if (hintId !== undefined) this.#router.learnNode(hintId, next)
      else this.#router.addEndpoint(next)
    }
    table?.noteLeader(shard, next === undefined ? null : hintId ?? null, next, epoch)
    // A newer epoch: placement changed since our map. No usable hint: the map may know better.
    // Either way the call does not wait; it follows the hint or backs off as before.
    const stale = table === undefined || (epoch !== undefined && epoch > table.epoch)
    if (epoch !== undefined && epoch > (this.#announced?.epoch ?? table?.epoch ?? 0)) this.#announced = { epoch, by: from, retried: false }
    if (stale || next === undefined) this.#refresher.refreshSoon(stale && epoch !== undefined ? from : undefined)
    return { next }
  }

  /** An endpoint stopped answering: stop sending shards' leader traffic there, and ask for news. */
  unreachable (endpoint: string): void {
    if (this.#table?.forgetLeaderAt(endpoint) === true) this.#refresher.refreshSoon()
  }

  close (): void {
    this.#refresher.close()
  }

  #apply (map: ShardMapView): void {
    if (map.shardCount === 0) {
      // A sharded cluster does not become unsharded: such an answer comes from a node that is not
      // (yet) part of it, and the map we have stays the better guide.
      if (this.#mode === 'sharded') this.#logger.warn({ epoch: this.#table?.epoch }, 'a node answered an unsharded map; keeping the sharded one')
      else this.#mode = 'unsharded'
      return
    }
    const previous = this.#table
    if (previous === undefined || map.epoch >= previous.epoch) {
      this.#table = new ShardTable(map, previous)
      this.#mode = 'sharded'
      this.#syncEndpoints(map)
    }
    const announced = this.#announced
    if (announced !== undefined && (this.#table?.epoch ?? 0) >= announced.epoch) this.#announced = undefined
    else if (announced !== undefined && !announced.retried) {
      announced.retried = true
      this.#refresher.refreshSoon(announced.by)
    }
  }

  /** Reaches every node the map lists; lets go of nodes it learned from older maps that left. */
  #syncEndpoints (map: ShardMapView): void {
    const current = new Set<string>()
    for (const node of map.nodes) {
      if (node.wsUrl === undefined) continue
      current.add(node.wsUrl)
      this.#router.learnNode(node.id, node.wsUrl)
      if (!this.#listed.has(node.wsUrl)) this.#learned.add(node.wsUrl)
    }
    for (const endpoint of this.#learned) {
      if (current.has(endpoint)) continue
      this.#learned.delete(endpoint)
      this.#router.removeEndpoint(endpoint)
      this.#pool.retire(endpoint)
    }
  }
}

const noop = (): void => {}

/** Whether an error means the node does not know the `shards` request (it predates sharding). */
export function isUnknownRequest (error: unknown): boolean {
  return isSynodError(error, 'ERR_INVALID_ARGUMENT')
}
