import { InvalidArgumentError, NotLeaderError, TimeoutError, isSynodError } from '@synod/interfaces'
import type { Clock, Logger } from '@synod/interfaces'
import type { ExecuteOptions, LockRequest, LockResponse, LockServer } from '../service/lock-server.js'
import { abortReason, isAborted, sleep } from './timing.js'

/**
 * Errors after which the same request may be sent again (to another replica): the log is idempotent
 * for them. `ERR_UNAVAILABLE` is a network stub's "could not reach the replica, nothing was sent".
 */
const retryable = new Set(['ERR_NOT_LEADER', 'ERR_TIMEOUT', 'ERR_PROPOSAL_DROPPED', 'ERR_STOPPED', 'ERR_NOT_STARTED', 'ERR_OVERLOADED', 'ERR_UNAVAILABLE'])

export interface RouterOptions {
  requestTimeoutMs: number
  retryDelayMs: number
}

/**
 * Sends requests to the replica that leads, following ERR_NOT_LEADER hints and moving on from
 * replicas that time out. Every lock request is safe to resend (requests carry their own ids).
 */
export class Router {
  readonly #servers: LockServer[]
  readonly #clock: Clock
  readonly #logger: Logger | undefined
  readonly #options: RouterOptions
  readonly #listeners = new Set<() => void>()
  #current = 0

  constructor (servers: LockServer[], clock: Clock, logger: Logger | undefined, options: RouterOptions) {
    if (servers.length === 0) throw new InvalidArgumentError('a lock client needs at least one server', { field: 'servers' })
    this.#servers = servers
    this.#clock = clock
    this.#logger = logger
    this.#options = options
  }

  current (): LockServer {
    return this.#servers[this.#current] as LockServer
  }

  /** True with one server (a stub for the whole cluster): the client never moves, so there is nothing to watch. */
  get single (): boolean {
    return this.#servers.length === 1
  }

  /** Calls `listener` whenever the client moves to another replica. */
  onChange (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /**
   * Executes `request` on the leader, retrying across replicas until it succeeds, fails for a
   * reason a retry cannot fix, `deadline` (clock time) passes, or `signal` aborts.
   */
  async call (request: LockRequest, deadline: number, signal: AbortSignal | undefined): Promise<LockResponse> {
    let lastError: unknown
    for (;;) {
      if (signal?.aborted === true) throw abortReason(signal)
      const remaining = deadline - this.#clock.now()
      if (remaining <= 0) throw isSynodError(lastError) ? lastError : new TimeoutError(`${request.type} did not complete in time`, { indeterminate: true })
      const server = this.current()
      const options: ExecuteOptions = { timeoutMs: Math.min(this.#options.requestTimeoutMs, remaining) }
      if (signal !== undefined) options.signal = signal
      try {
        return await server.execute(request, options)
      } catch (err) {
        if (isAborted(signal)) throw abortReason(signal)
        if (!isSynodError(err) || !retryable.has(err.code)) throw err
        lastError = err
        const hinted = err.code === NotLeaderError.code && this.#follow((err as NotLeaderError).leaderHint, server)
        this.#logger?.debug({ server: server.id, code: err.code, next: this.current().id }, 'lock request retried')
        if (!hinted) {
          if (err.code !== NotLeaderError.code || (err as NotLeaderError).leaderHint === undefined) this.#moveOn(server)
          await sleep(this.#clock, Math.min(this.#options.retryDelayMs, Math.max(0, deadline - this.#clock.now())), signal)
        }
      }
    }
  }

  /** Moves to the hinted leader; true if that is a different replica we know. */
  #follow (hint: string | undefined, from: LockServer): boolean {
    if (hint === undefined || hint === from.id) return false
    const index = this.#servers.findIndex((server) => server.id === hint)
    if (index < 0 || this.current() !== from) return false
    this.#current = index
    this.#changed()
    return true
  }

  /** Moves to the next replica, unless someone already moved away from `from`. */
  #moveOn (from: LockServer): void {
    if (this.#servers.length === 1 || this.current() !== from) return
    this.#current = (this.#current + 1) % this.#servers.length
    this.#changed()
  }

  #changed (): void {
    for (const listener of [...this.#listeners]) listener()
  }
}
