import {
  AbortError, InvalidArgumentError, LockTimeoutError, NotHeldError, SessionExpiredError, StoppedError,
  TypedEventEmitter, isSynodError, throwIfAborted
} from '@synod/interfaces'
import type { Clock, Logger } from '@synod/interfaces'
import type { LockMode } from '../machine/commands.js'
import type { LockServer } from '../service/lock-server.js'
import { systemClock } from '../system-clock.js'
import { ClientSession } from './client-session.js'
import type { LossReason, SessionSettings } from './client-session.js'
import { HeldLock } from './held-lock.js'
import { Router } from './router.js'
import { abortReason, isAborted, linkSignals, sleep } from './timing.js'
import type { AcquireOptions, Lock, LockClient, LockClientEvents } from './types.js'

export interface LockClientComponents {
  /** One lock server per replica (in-process services or RPC stubs); the client finds the leader. */
  servers: LockServer[]
  /** Times keepalives, lease validity and acquire timeouts. @default systemClock */
  clock?: Clock
  logger?: Logger
}

export interface LockClientOptions {
  /** Default session TTL in ms: how long the cluster keeps a silent client's locks. @default 10000 */
  ttlMs?: number
  /** Keepalive period as a fraction of the TTL. @default 1/3 */
  keepaliveFraction?: number
  /**
   * Fraction of the TTL the client gives up before it considers a lease lost, to cover clock-rate
   * differences between it and the leader. @default 0.1
   */
  clockDriftMargin?: number
  /** Timeout of one attempt on one replica before trying again elsewhere. @default 2000 */
  requestTimeoutMs?: number
  /** Pause before retrying after a failed attempt. @default 50 */
  retryDelayMs?: number
  /** Default lock-delay for acquires (see `AcquireOptions.lockDelayMs`). @default 0 */
  lockDelayMs?: number
}

const noop = (): void => {}

interface Spec {
  mode: LockMode
  permits: number
  limit: number
  ttlMs: number
  lockDelayMs: number
}

class Client extends TypedEventEmitter<LockClientEvents> implements LockClient {
  readonly #router: Router
  readonly #clock: Clock
  readonly #logger: Logger | undefined
  readonly #options: Required<LockClientOptions>
  /** One session per TTL, opened on first use. */
  readonly #sessions = new Map<number, Promise<ClientSession>>()
  /** The sessions of `#sessions` that are open, by TTL. */
  readonly #live = new Map<number, ClientSession>()
  readonly #locks = new Map<ClientSession, Set<HeldLock>>()
  #stopped = false
  /** Ends the client's own background requests (opening sessions) when it stops. */
  readonly #stopping = new AbortController()

  constructor (components: LockClientComponents, options: LockClientOptions) {
    super()
    this.#clock = components.clock ?? systemClock
    this.#logger = components.logger?.child({ component: 'lock-client' })
    this.#options = {
      ttlMs: options.ttlMs ?? 10_000,
      keepaliveFraction: options.keepaliveFraction ?? 1 / 3,
      clockDriftMargin: options.clockDriftMargin ?? 0.1,
      requestTimeoutMs: options.requestTimeoutMs ?? 2000,
      retryDelayMs: options.retryDelayMs ?? 50,
      lockDelayMs: options.lockDelayMs ?? 0
    }
    if (!(this.#options.keepaliveFraction > 0 && this.#options.keepaliveFraction < 1)) throw new InvalidArgumentError('keepaliveFraction must be in (0, 1)', { field: 'keepaliveFraction' })
    if (!(this.#options.clockDriftMargin >= 0 && this.#options.clockDriftMargin < 1 - this.#options.keepaliveFraction)) {
      throw new InvalidArgumentError('clockDriftMargin must be in [0, 1 - keepaliveFraction)', { field: 'clockDriftMargin' })
    }
    this.#router = new Router(components.servers, this.#clock, this.#logger, {
      requestTimeoutMs: this.#options.requestTimeoutMs,
      retryDelayMs: this.#options.retryDelayMs
    })
  }

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#stopping.abort(new StoppedError('lock client stopped'))
    const sessions = await Promise.allSettled([...this.#sessions.values()])
    this.#sessions.clear()
    this.#live.clear()
    await Promise.allSettled(sessions.map(async (settled) => {
      if (settled.status !== 'fulfilled' || settled.value.state !== 'live') return
      const session = settled.value
      for (const lock of this.#locks.get(session) ?? []) lock.markReleased()
      this.#locks.delete(session)
      session.close()
      // Closing the session releases its locks at once, with no lock-delay.
      await this.#router.call({ type: 'close-session', session: session.id }, this.#clock.now() + this.#options.requestTimeoutMs, undefined)
    }))
  }

  async acquire (name: string, options: AcquireOptions = {}): Promise<Lock> {
    const lock = await this.#acquire(name, options, true)
    if (lock === undefined) throw new LockTimeoutError(`${name} was not granted`)
    return lock
  }

  async tryAcquire (name: string, options: Omit<AcquireOptions, 'timeoutMs'> = {}): Promise<Lock | undefined> {
    return await this.#acquire(name, options, false)
  }

  async withLock<T>(name: string, fn: (signal: AbortSignal, lock: Lock) => Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const lock = await this.acquire(name, options)
    let outcome: { ok: true, value: T } | { ok: false, error: unknown }
    try {
      outcome = { ok: true, value: await fn(lock.signal, lock) }
    } catch (error) {
      outcome = { ok: false, error }
    }
    let lost = !lock.held && (lock as HeldLock).state !== 'released'
    try {
      await lock.release()
    } catch (error) {
      if (isSynodError(error, NotHeldError.code)) lost = true
      else if (outcome.ok) outcome = { ok: false, error }
    }
    if (lost) throw new SessionExpiredError(`${name} (token ${lock.token}) was lost before the critical section finished`)
    if (!outcome.ok) throw outcome.error
    return outcome.value
  }

  #spec (options: AcquireOptions): Spec {
    const mode = options.mode ?? 'exclusive'
    const ttlMs = options.ttlMs ?? this.#options.ttlMs
    const lockDelayMs = options.lockDelayMs ?? this.#options.lockDelayMs
    if (mode === 'semaphore') {
      const limit = options.limit
      const permits = options.permits ?? 1
      if (limit === undefined || !Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('a semaphore needs an integer limit >= 1', { field: 'limit' })
      if (!Number.isInteger(permits) || permits < 1 || permits > limit) throw new InvalidArgumentError('permits must be an integer within [1, limit]', { field: 'permits' })
      return { mode, permits, limit, ttlMs, lockDelayMs }
    }
    if (mode !== 'exclusive' && mode !== 'shared') throw new InvalidArgumentError(`unknown lock mode ${String(mode)}`, { field: 'mode' })
    return { mode, permits: 1, limit: 0, ttlMs, lockDelayMs }
  }

  async #acquire (name: string, options: AcquireOptions, wait: boolean): Promise<HeldLock | undefined> {
    if (this.#stopped) throw new StoppedError('lock client stopped')
    throwIfAborted(options.signal)
    const spec = this.#spec(options)
    // One controller ends the attempt for any reason: the caller's signal, the timeout, or the
    // session being lost. Its reason is the error the caller sees. Without a caller's signal or a
    // timeout only the session can end it, so its signal serves as is: no controller and no
    // listeners per acquire on that path (an AbortSignal costs microseconds to make).
    const attempt = options.signal === undefined && options.timeoutMs === undefined ? undefined : new AbortController()
    const timeout = options.timeoutMs === undefined
      ? undefined
      : this.#clock.setTimeout(() => { attempt?.abort(new LockTimeoutError(`${name} not acquired within ${options.timeoutMs} ms`)) }, options.timeoutMs)
    const unlinkCaller = attempt === undefined ? noop : linkSignals(attempt, [options.signal])
    let session: ClientSession | undefined
    let signal: AbortSignal | undefined = attempt?.signal
    let request: number | undefined
    let unlinkSession = noop
    try {
      session = await this.#session(spec.ttlMs, signal)
      signal = attempt?.signal ?? session.signal
      if (attempt !== undefined) unlinkSession = session.watch(attempt)
      request = session.nextRequest()
      const { index, result } = await this.#router.call({
        type: 'acquire', session: session.id, request, name, mode: spec.mode, permits: spec.permits,
        limit: spec.limit, wait, lockDelayMs: spec.lockDelayMs
      }, Number.POSITIVE_INFINITY, signal)
      let token: number
      if (result.type === 'granted') token = result.token
      else if (result.type === 'queued') token = (await this.#awaitGrant(session, request, name, index, signal)).token
      else return undefined
      const owner = session
      const lock = new HeldLock({ name, mode: spec.mode, permits: spec.permits, token, request }, owner, this.#router, this.#clock,
        (released) => { this.#locks.get(owner)?.delete(released) })
      this.#locks.get(session)?.add(lock)
      return lock
    } catch (err) {
      if (session !== undefined && isSynodError(err, SessionExpiredError.code)) session.lose('expired')
      if (session !== undefined && request !== undefined && session.state === 'live') await this.#withdraw(session, request, name)
      if (isAborted(signal)) {
        const reason = abortReason(signal)
        throw isSynodError(reason) ? reason : new AbortError(undefined, { cause: reason })
      }
      throw err
    } finally {
      if (timeout !== undefined) this.#clock.clearTimeout(timeout)
      unlinkCaller()
      unlinkSession()
    }
  }

  /** Waits for a queued request's grant, moving the wait along when the client moves to another replica. */
  async #awaitGrant (session: ClientSession, request: number, name: string, afterIndex: number, signal: AbortSignal): Promise<{ token: number }> {
    for (;;) {
      if (signal.aborted) throw abortReason(signal)
      const server = this.#router.current()
      // With one server the client never moves (no controller or listeners per wait on that path).
      const moved = this.#router.single ? undefined : new AbortController()
      const unlink = moved === undefined ? noop : signal === session.signal ? session.watch(moved) : linkSignals(moved, [signal])
      const unwatch = moved === undefined ? noop : this.#router.onChange(() => { moved.abort(new AbortError('moved to another replica')) })
      try {
        return await server.awaitGrant({ session: session.id, request, name, afterIndex }, { signal: moved?.signal ?? signal })
      } catch (err) {
        if (signal.aborted) throw abortReason(signal)
        if (moved?.signal.aborted === true) continue
        // The replica stopped or could not be reached: wait again, there or on the next one.
        if (isSynodError(err, 'ERR_STOPPED') || isSynodError(err, 'ERR_NOT_STARTED') || isSynodError(err, 'ERR_UNAVAILABLE')) {
          await sleep(this.#clock, this.#options.retryDelayMs, signal)
          continue
        }
        throw err
      } finally {
        unlink()
        unwatch()
      }
    }
  }

  /**
   * Takes back a request the caller gave up on (timeout, abort): dequeues it, or releases it if it
   * was granted meanwhile. If the cluster cannot be reached now, the session retries after each
   * keepalive, so an abandoned request never ends up holding the lock for nobody.
   */
  async #withdraw (session: ClientSession, request: number, name: string): Promise<void> {
    try {
      await this.#router.call({ type: 'release', session: session.id, request, name }, this.#clock.now() + this.#options.requestTimeoutMs, session.signal)
    } catch {
      if (session.state === 'live') session.abandoned.set(request, name)
    }
  }

  /** The open session for `ttlMs`, at once when there is one (the common case), else once opened. */
  #session (ttlMs: number, signal: AbortSignal | undefined): ClientSession | Promise<ClientSession> {
    const live = this.#live.get(ttlMs)
    if (live !== undefined && live.state === 'live') return live
    return this.#openSession(ttlMs, signal)
  }

  async #openSession (ttlMs: number, signal: AbortSignal | undefined): Promise<ClientSession> {
    let opening = this.#sessions.get(ttlMs)
    if (opening === undefined) {
      opening = this.#open(ttlMs)
      this.#sessions.set(ttlMs, opening)
      opening.catch(() => { if (this.#sessions.get(ttlMs) === opening) this.#sessions.delete(ttlMs) })
    }
    if (signal === undefined) return await opening
    // Waiting for the session can be abandoned without abandoning the session itself.
    return await new Promise<ClientSession>((resolve, reject) => {
      const onAbort = (): void => { reject(abortReason(signal)) }
      signal.addEventListener('abort', onAbort, { once: true })
      ;(opening).then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  async #open (ttlMs: number): Promise<ClientSession> {
    const sentAt = this.#clock.now()
    // Keeps trying until the cluster answers: an acquire waiting for it gives up by its own timeout or signal.
    const { result } = await this.#router.call({ type: 'open-session', ttlMs }, Number.POSITIVE_INFINITY, this.#stopping.signal)
    if (result.type !== 'session-opened') throw new InvalidArgumentError(`unexpected reply ${result.type} to open-session`)
    const settings: SessionSettings = {
      ttlMs,
      keepaliveIntervalMs: ttlMs * this.#options.keepaliveFraction,
      clockDriftMargin: this.#options.clockDriftMargin
    }
    const session = new ClientSession(result.session, sentAt, settings, this.#router, this.#clock, {
      lost: (lostSession, reason) => { this.#onLost(lostSession, reason) }
    })
    this.#locks.set(session, new Set())
    if (!this.#stopped) this.#live.set(ttlMs, session)
    if (this.#stopped) {
      session.close()
      void this.#router.call({ type: 'close-session', session: session.id }, this.#clock.now() + this.#options.requestTimeoutMs, undefined).catch(() => {})
    }
    return session
  }

  #onLost (session: ClientSession, reason: LossReason): void {
    // The next acquire with this TTL opens a fresh session.
    this.#sessions.delete(session.settings.ttlMs)
    if (this.#live.get(session.settings.ttlMs) === session) this.#live.delete(session.settings.ttlMs)
    const locks = [...(this.#locks.get(session) ?? [])].filter((lock) => lock.state === 'held')
    this.#locks.delete(session)
    this.#logger?.info({ session: session.id, reason, locks: locks.length }, 'lock session lost')
    for (const lock of locks) {
      lock.markLost()
      this.safeDispatch('lock-lost', { name: lock.name, token: lock.token, session: session.id })
    }
    this.safeDispatch('session-lost', { session: session.id, reason, locks: locks.map((lock) => lock.name) })
    if (reason === 'lease-timeout') {
      // Best effort: if the cluster is reachable after all, free the locks now rather than at expiry.
      void this.#router.call({ type: 'close-session', session: session.id }, this.#clock.now() + this.#options.requestTimeoutMs, undefined).catch(() => {})
    }
  }
}

/**
 * Creates a lock client. It opens sessions lazily, keeps them alive across leader changes and
 * reports their loss; call `stop()` to close them and release every lock.
 */
export function createLockClient (components: LockClientComponents, options: LockClientOptions = {}): LockClient {
  return new Client(components, options)
}
