import { randomBytes } from 'node:crypto'
import { getEventListeners } from 'node:events'
import {
  AbortError, InvalidArgumentError, StoppedError, TimeoutError, isSynodError,
  type Clock, type Logger, type Random, type ReplicatedLogStatus
} from '@synod/interfaces'
import { createLockClient, type LockClient, type LockClientOptions } from '@synod/lock'
import { markIndeterminate } from './errors.js'
import { createClusterLockServer } from './locks/lock-server.js'
import type {
  CallOptions, CasOptions, ClientComponents, ClientInit, KvItem, RangeOptions, RangeResult, ReadOptions,
  StatusOptions, SynodClient, Value, WriteResult
} from './options.js'
import { backoffDelay, classifyFailure } from './retry/classify.js'
import { sleep } from './retry/signals.js'
import { Router, type Route } from './routing/router.js'
import { UNSHARDED, parseShardMapView, type ShardMapView } from './routing/shard-map.js'
import { ShardRouting, isUnknownRequest } from './routing/shard-routing.js'
import { WriteSessions } from './sessions.js'
import { ConnectionPool, type Connection } from './transport/connection-pool.js'
import type {
  Consistency, WireGetResponse, WireItem, WireRangeResponse, WireRequest, WireStatusResponse, WireWrite, WireWriteResponse
} from './wire.js'

const systemClock: Clock = {
  now: () => performance.now(),
  // Not unref'd: a caller awaiting a call keeps the process alive until it settles.
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}
const mathRandom: Random = { next: () => Math.random(), int: (max) => Math.floor(Math.random() * max) }
const silentLogger: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child () { return silentLogger } }
const encoder = new TextEncoder()
const noop = (): void => {}
/** The exclusions of a call's first attempt: none. */
const NO_EXCLUSIONS: ReadonlySet<string> = new Set()
/** Spare call controllers a client keeps (one per call it had in flight at once, up to this). */
const MAX_SPARE_CONTROLLERS = 1024

interface Attempt {
  request: WireRequest
  kind: 'read' | 'write'
  /** Whether resending after a `lost` attempt is safe: reads, and writes carrying a session. */
  resendable: boolean
  /** Send every attempt to this endpoint. */
  endpoint?: string | undefined
  /** Send the first attempt here (another node may answer later ones). */
  prefer?: string | undefined
  /** The key a keyed call (get, put, del, cas) is about: routed to its shard in a sharded cluster. */
  key?: string | undefined
  consistency?: Consistency | undefined
}

/**
 * Creates a client of a Synod cluster. Connections open lazily, on the first call that needs them;
 * a node that cannot be reached is retried with backoff while the call's deadline allows.
 */
export function createClient (init: ClientInit, components: ClientComponents = {}): SynodClient {
  if (init.endpoints.length === 0) throw new InvalidArgumentError('at least one endpoint is needed', { field: 'endpoints' })
  for (const endpoint of init.endpoints) {
    if (!/^wss?:\/\//.test(endpoint)) throw new InvalidArgumentError(`endpoint ${endpoint} must start with ws:// or wss://`, { field: 'endpoints' })
  }
  const clock = components.clock ?? systemClock
  const random = components.random ?? mathRandom
  const logger = (components.logger ?? silentLogger).child({ component: 'synod-client' })
  const timeoutMs = init.timeoutMs ?? 10_000
  const maxAttempts = Math.max(1, init.retry?.maxAttempts ?? 10)
  const baseDelayMs = init.retry?.baseDelayMs ?? 25
  const maxDelayMs = init.retry?.maxDelayMs ?? 1000
  const exactlyOnce = init.exactlyOnce ?? true
  const attemptTimeoutMs = init.attemptTimeoutMs
  const id = init.clientId ?? randomBytes(16).toString('base64url')
  const sessions = new WriteSessions(id)
  const router = new Router(init.endpoints, init.policy ?? 'p2c-peak-ewma', clock, random)
  const closing = new AbortController()
  /** Controllers of the calls in flight, aborted by close(). */
  const inFlight = new Set<AbortController>()

  const pool = new ConnectionPool({
    token: init.token,
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    maxResponseBytes: init.maxResponseBytes ?? 16 * 1024 * 1024,
    onConnect: (endpoint, connection) => { learnIdentity(endpoint, connection) }
  }, clock)

  const shardRouting = init.shardRouting ?? true
  const shards = new ShardRouting({
    router,
    pool,
    endpoints: init.endpoints,
    fetch: fetchShardMap,
    minRefreshIntervalMs: init.shardMapRefreshMs ?? 250,
    clock,
    logger
  })

  /** One `shards` request with the usual retries; a node that does not know it is not sharded. */
  async function fetchShardMap (signal: AbortSignal, prefer: string | undefined): Promise<ShardMapView> {
    try {
      return parseShardMapView(await execute({ request: { op: 'shards' }, kind: 'read', resendable: true, prefer }, { signal }))
    } catch (error) {
      if (isUnknownRequest(error)) return UNSHARDED
      throw error
    }
  }

  /** Asks a freshly connected node who it is, so leader hints (node ids) map to endpoints. */
  function learnIdentity (endpoint: string, connection: Connection): void {
    connection.request({ op: 'status' }, { signal: closing.signal }).then((status) => {
      router.learn(endpoint, status as WireStatusResponse)
    }, (error: unknown) => {
      logger.debug({ endpoint, err: (error as Error).message }, 'could not learn the node id')
    })
  }

  /** A signal that fires with `parent`, or after `ms` with an indeterminate `ERR_TIMEOUT`. */
  function deadlineWithin (parent: AbortSignal, ms: number): { signal: AbortSignal, dispose: () => void } {
    const controller = new AbortController()
    const timer = clock.setTimeout(() => { controller.abort(new TimeoutError(`attempt took over ${ms} ms`, { indeterminate: true })) }, ms)
    const onAbort = (): void => { controller.abort(parent.reason) }
    parent.addEventListener('abort', onAbort, { once: true })
    return {
      signal: controller.signal,
      dispose: () => {
        clock.clearTimeout(timer)
        parent.removeEventListener('abort', onAbort)
      }
    }
  }

  /**
   * Controllers of calls that ended without firing, kept for the next calls: a new AbortSignal
   * costs several microseconds in Node 20, more than the rest of a call's own work. A controller is
   * put back only unaborted and with no listener left on its signal (the transport, the connection
   * wait and the backoff sleep all remove theirs when they settle).
   */
  const spareControllers: AbortController[] = []

  function endCall (call: AbortController): void {
    inFlight.delete(call)
    // The listener check costs a fraction of a new signal and keeps a callee that forgot to remove
    // its listener from ever hearing a later call's abort.
    if (!call.signal.aborted && spareControllers.length < MAX_SPARE_CONTROLLERS && getEventListeners(call.signal, 'abort').length === 0) {
      spareControllers.push(call)
    }
  }

  /**
   * Calls in flight by their caller's signal, with one listener per signal however many calls
   * share it: a lock session's signal comes with every lock call under that session, and a
   * listener each would trip Node's "possible EventTarget memory leak" warning past ten.
   */
  const callsBySignal = new Map<AbortSignal, { calls: Set<AbortController>, onAbort: () => void }>()

  function follow (callerSignal: AbortSignal, call: AbortController): void {
    if (callerSignal.aborted) {
      call.abort(callerSignal.reason)
      return
    }
    let followed = callsBySignal.get(callerSignal)
    if (followed === undefined) {
      const calls = new Set<AbortController>()
      const onAbort = (): void => {
        callsBySignal.delete(callerSignal)
        callerSignal.removeEventListener('abort', onAbort)
        for (const each of calls) each.abort(callerSignal.reason)
      }
      followed = { calls, onAbort }
      callsBySignal.set(callerSignal, followed)
      callerSignal.addEventListener('abort', onAbort)
    }
    followed.calls.add(call)
  }

  function unfollow (callerSignal: AbortSignal, call: AbortController): void {
    const followed = callsBySignal.get(callerSignal)
    if (followed === undefined || !followed.calls.delete(call) || followed.calls.size > 0) return
    callsBySignal.delete(callerSignal)
    callerSignal.removeEventListener('abort', followed.onAbort)
  }

  async function execute (attempt: Attempt, options: CallOptions = {}): Promise<unknown> {
    if (closing.signal.aborted) throw new StoppedError('client closed')
    // One controller per call, fired by the deadline, the caller's signal or close(). Cheaper than
    // AbortSignal.any, which this hot path would otherwise pay for on every call.
    const call = spareControllers.pop() ?? new AbortController()
    const signal = call.signal
    const budget = options.timeoutMs ?? timeoutMs
    // An infinite budget (a lock grant wait) has no deadline: it ends with its answer or its signal.
    const timer = Number.isFinite(budget) ? clock.setTimeout(() => { call.abort(new TimeoutError(`no answer within ${budget} ms`)) }, budget) : undefined
    const callerSignal = options.signal
    if (callerSignal !== undefined) follow(callerSignal, call)
    inFlight.add(call)
    try {
      // The first keyed call learns whether the cluster is sharded (one request, shared by all).
      const key = shardRouting ? attempt.key : undefined
      if (key !== undefined && !signal.aborted && shards.needsDiscovery()) {
        try {
          await shards.discover(signal)
        } catch (error) {
          // It rejects only when the call was aborted; the retry loop says why.
          if (!signal.aborted) throw error
        }
      }
      if (!signal.aborted) {
        // The common case, with nothing allocated for retries: a connection that is open already,
        // no per-attempt deadline, and an answer.
        const route = routeOf(attempt, key, NO_EXCLUSIONS, attempt.prefer)
        const connection = attemptTimeoutMs === undefined ? pool.ready(route.endpoint) : undefined
        if (connection !== undefined) {
          let response: unknown
          pool.hold(connection)
          try {
            response = await connection.request(attempt.request, { signal })
          } catch (caught) {
            return await retry(attempt, options, call, budget, { route, connection, caught })
          } finally {
            pool.unhold(connection)
          }
          route.complete('success')
          return response
        }
        return await retry(attempt, options, call, budget, { route })
      }
      return await retry(attempt, options, call, budget, undefined)
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
      if (callerSignal !== undefined) unfollow(callerSignal, call)
      endCall(call)
    }
  }

  /** The endpoint of one attempt: pinned, the key's shard, or the router's choice. */
  function routeOf (attempt: Attempt, key: string | undefined, exclude: ReadonlySet<string>, preferred: string | undefined): Route {
    // A call pinned to one endpoint (status of a given node) never goes elsewhere.
    if (attempt.endpoint !== undefined) return { endpoint: attempt.endpoint, complete: noop }
    return (key === undefined ? undefined : shards.route(key, attempt.kind, attempt.consistency, exclude, preferred)) ??
      router.route(attempt.kind, exclude, preferred)
  }

  /**
   * The attempts of a call after the fast path: `first` is the route chosen for the first attempt
   * (and, when it was sent, its connection and how it failed), undefined when the call was aborted
   * before it was sent.
   */
  async function retry (
    attempt: Attempt, options: CallOptions, call: AbortController, budget: number,
    first: { route: Route, connection?: Connection, caught?: unknown } | undefined
  ): Promise<unknown> {
    const signal = call.signal
    const exclude = new Set<string>()
    let preferred = attempt.prefer
    const key = shardRouting ? attempt.key : undefined
    /** True once an attempt may have reached the log. */
    let maybeApplied = false
    let lastError: unknown
    let pending = first

    const giveUp = (): Error => {
      const indeterminate = attempt.kind === 'write' && maybeApplied
      if (options.signal?.aborted === true) return new AbortError(undefined, { cause: options.signal.reason, indeterminate })
      if (closing.signal.aborted) return markIndeterminate(new StoppedError('client closed'), indeterminate)
      return new TimeoutError(`no answer within ${budget} ms${lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`}`, { indeterminate })
    }

    try {
      for (let n = 1; ; n++) {
        // The fast path's attempt, if it made one, is attempt 1: its outcome is handled below as any other's.
        const carried = pending
        if (carried === undefined && signal.aborted) throw giveUp()
        pending = undefined
        const route: Route = carried?.route ?? routeOf(attempt, key, exclude, preferred)
        preferred = undefined
        let followed = false
        let connection: Connection | undefined = carried?.connection
        const attemptDeadline = attemptTimeoutMs === undefined || carried?.connection !== undefined ? undefined : deadlineWithin(signal, attemptTimeoutMs)
        const attemptSignal = attemptDeadline?.signal ?? signal
        try {
          if (carried !== undefined && 'caught' in carried) throw carried.caught
          connection = await pool.get(route.endpoint, { signal: attemptSignal })
          pool.hold(connection)
          try {
            const response = await connection.request(attempt.request, { signal: attemptSignal })
            route.complete('success')
            return response
          } finally {
            pool.unhold(connection)
          }
        } catch (caught) {
          if (signal.aborted) {
            route.complete('cancelled')
            if (connection !== undefined) maybeApplied = true
            throw giveUp()
          }
          // An attempt that ran out of time was sent (it may be in the log) unless it never connected.
          const timedOut = attemptSignal.aborted
          const error: unknown = timedOut ? attemptSignal.reason : caught
          lastError = error
          const failure = connection === undefined && !isSynodError(error, 'ERR_UNAUTHORIZED') ? 'refused' : classifyFailure(error)
          route.complete(failure === 'final' || isSynodError(error, 'ERR_NOT_LEADER') ? 'success' : 'failure')
          // An answer ends the call; it cannot undo an earlier attempt that may have been applied.
          if (failure === 'final') throw attempt.kind === 'write' && maybeApplied ? markIndeterminate(error, true) : error
          if (failure === 'lost') {
            maybeApplied = true
            if (!attempt.resendable) throw markIndeterminate(error, true)
          }
          if (connection === undefined || failure === 'lost') {
            // A slow node keeps its connection: other calls on it may be fine.
            if (connection !== undefined && !timedOut) pool.drop(route.endpoint, connection)
            router.unreachable(route.endpoint)
            shards.unreachable(route.endpoint)
            exclude.add(route.endpoint)
          }
          if (isSynodError(error, 'ERR_NOT_LEADER')) {
            // A sharded node redirects to the key's shard leader; otherwise the hint is the cluster's leader.
            const redirect = key === undefined ? undefined : shards.followRedirect(route.endpoint, key, error)
            const next = redirect === undefined ? router.followHint(route.endpoint, error as { leaderHint?: unknown, leaderUrl?: unknown }) : redirect.next
            // A hint to another node is fresh news: try it at once. No hint means an election is on: back off.
            if (next !== undefined && next !== route.endpoint) {
              preferred = next
              followed = true
            }
            if (attempt.kind === 'write' || redirect !== undefined) exclude.add(route.endpoint)
          }
          if (n >= maxAttempts) throw markIndeterminate(error, attempt.kind === 'write' && maybeApplied)
          logger.debug({ endpoint: route.endpoint, attempt: n, code: (error as { code?: unknown }).code }, 'retrying')
          if (!followed) await sleep(clock, backoffDelay(n, baseDelayMs, maxDelayMs, () => random.next()), signal)
        } finally {
          attemptDeadline?.dispose()
        }
      }
    } catch (error) {
      if (signal.aborted && isSynodError(error, 'ERR_ABORTED')) throw giveUp()
      throw error
    }
  }

  async function write (request: WireWrite, options: CallOptions | undefined): Promise<WriteResult> {
    const session = exactlyOnce ? sessions.acquire() : undefined
    try {
      // `request` was built for this call alone: it takes the session fields in place (no copy).
      if (session !== undefined) {
        request.client = session.client
        request.seq = session.seq
      }
      const response = await execute({ request, kind: 'write', resendable: session !== undefined, key: request.key }, options) as WireWriteResponse
      return { ok: response.ok, revision: response.revision, index: response.index, previous: toBytes(response.previous) }
    } finally {
      session?.release()
    }
  }

  // Lock requests are idempotent (they carry their own session and request ids), so every one is
  // resendable; they are writes, routed to the leader.
  const lockServer = createClusterLockServer(async (request, options) => execute({ request, kind: 'write', resendable: true }, options))
  /** Lock clients made by `locks()`, stopped (their sessions closed) by `close()`. */
  const lockClients = new Set<LockClient>()
  let closed: Promise<void> | undefined

  return {
    id,
    lockServer,
    locks (options: LockClientOptions = {}): LockClient {
      if (closed !== undefined) throw new StoppedError('client closed')
      const locks = createLockClient({ servers: [lockServer], clock, logger }, options)
      lockClients.add(locks)
      return locks
    },
    async get (key, options: ReadOptions = {}) {
      const response = await execute({ request: { op: 'get', key, ...consistency(options) }, kind: 'read', resendable: true, key, consistency: options.consistency }, options) as WireGetResponse
      return response.item === null ? undefined : toItem(response.item)
    },
    async range (options: RangeOptions = {}): Promise<RangeResult> {
      const request: WireRequest = { op: 'range', ...consistency(options) }
      if (options.prefix !== undefined) request.prefix = options.prefix
      if (options.limit !== undefined) request.limit = options.limit
      const response = await execute({ request, kind: 'read', resendable: true }, options) as WireRangeResponse
      return { revision: response.revision, items: response.items.map(toItem), more: response.more }
    },
    async put (key, value, options) {
      return write({ op: 'put', key, value: bytes(value) }, options)
    },
    async del (key, options) {
      return write({ op: 'del', key }, options)
    },
    async cas (key, value, options: CasOptions) {
      const request: WireWrite = { op: 'cas', key, value: bytes(value) }
      if (options.expectedValue !== undefined) request.expectedValue = options.expectedValue === null ? null : bytes(options.expectedValue)
      if (options.expectedRevision !== undefined) request.expectedRevision = options.expectedRevision
      if (request.expectedValue === undefined && request.expectedRevision === undefined) {
        throw new InvalidArgumentError('cas needs expectedValue or expectedRevision', { field: 'expectedValue' })
      }
      return write(request, options)
    },
    async status (options: StatusOptions = {}): Promise<ReplicatedLogStatus> {
      const response = await execute({ request: { op: 'status' }, kind: 'read', resendable: true, endpoint: options.endpoint }, options) as WireStatusResponse
      return response
    },
    leader: () => router.leader,
    shardMap: () => shards.view(),
    async refreshShardMap (options: CallOptions = {}): Promise<ShardMapView | undefined> {
      if (closing.signal.aborted) throw new StoppedError('client closed')
      const budget = options.timeoutMs
      if (budget === undefined || !Number.isFinite(budget)) return shards.refresh({ signal: options.signal })
      // The fetch has the client's deadline; this caller waits at most its own.
      const deadline = deadlineWithin(options.signal ?? closing.signal, budget)
      try {
        return await shards.refresh({ signal: deadline.signal })
      } catch (error) {
        if (closing.signal.aborted) throw new StoppedError('client closed')
        if (deadline.signal.aborted && options.signal?.aborted !== true) throw new TimeoutError(`no shard map within ${budget} ms`)
        throw error
      } finally {
        deadline.dispose()
      }
    },
    async close () {
      closed ??= (async () => {
        // Lock sessions are closed while the connections are still up, so their locks are released
        // now rather than when their leases run out.
        await Promise.allSettled([...lockClients].map(async (locks) => { await locks.stop() }))
        lockClients.clear()
        closing.abort(new StoppedError('client closed'))
        shards.close()
        for (const call of inFlight) call.abort(closing.signal.reason)
        await pool.close()
      })()
      await closed
    }
  }
}

function consistency (options: ReadOptions): { consistency?: 'linearizable' | 'serializable' } {
  return options.consistency === undefined ? {} : { consistency: options.consistency }
}

function bytes (value: Value): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value
}

function toBytes (value: Uint8Array | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}

function toItem (item: WireItem): KvItem {
  return {
    key: item.key,
    value: toBytes(item.value) ?? new Uint8Array(),
    createRevision: item.createRevision,
    modRevision: item.modRevision,
    version: item.version
  }
}
