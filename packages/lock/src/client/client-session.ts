import { SessionExpiredError, isSynodError } from '@synod/interfaces'
import type { Clock, TimerHandle } from '@synod/interfaces'
import type { SessionId } from '../machine/commands.js'
import type { Router } from './router.js'

const noop = (): void => {}

export interface SessionSettings {
  ttlMs: number
  keepaliveIntervalMs: number
  /** Fraction of the TTL given up to cover clock-rate differences between client and leader. */
  clockDriftMargin: number
}

export type LossReason = 'expired' | 'lease-timeout'

/** What a session tells its owner. */
export interface SessionHooks {
  lost(session: ClientSession, reason: LossReason): void
}

/**
 * One session on the client side: keeps the lease alive and tracks, on the client's own clock, the
 * latest moment the lease is surely still valid on the cluster (`validUntil`).
 *
 * `validUntil` counts from when a keepalive was *sent*, which is before the leader applied it, and
 * gives up `clockDriftMargin` of the TTL: so as long as the client's and the leader's clocks run at
 * rates within that margin, the client declares the session lost before the leader can expire it.
 */
export class ClientSession {
  readonly id: SessionId
  readonly settings: SessionSettings
  readonly controller = new AbortController()
  state: 'live' | 'lost' | 'closed' = 'live'
  validUntil: number
  /**
   * When the last open or keepalive that succeeded was sent. The session was alive on the cluster
   * at some moment after this, whatever the clocks did.
   */
  lastRenewalSentAt: number
  #nextRequest = 1
  /** Requests given up while queued that could not be withdrawn yet; retried with each keepalive. */
  readonly abandoned = new Map<number, string>()
  readonly #router: Router
  readonly #clock: Clock
  readonly #hooks: SessionHooks
  /** Controllers that end with the session (acquires under way, locks' signals): see `watch`. */
  readonly #watchers = new Set<AbortController>()
  #keepaliveTimer: TimerHandle = undefined
  #watchdog: TimerHandle = undefined

  constructor (id: SessionId, sentAt: number, settings: SessionSettings, router: Router, clock: Clock, hooks: SessionHooks) {
    this.id = id
    this.settings = settings
    this.#router = router
    this.#clock = clock
    this.#hooks = hooks
    this.validUntil = sentAt + this.#leaseSpan()
    this.lastRenewalSentAt = sentAt
    this.#armWatchdog()
    this.#scheduleKeepalive()
  }

  get signal (): AbortSignal {
    return this.controller.signal
  }

  /**
   * Aborts `controller` with the session's reason when the session ends (at once if it has), until
   * the returned function is called. A set rather than a listener each on `signal`: many acquires
   * and locks share one session, and more than ten listeners on one signal make Node warn of a leak.
   */
  watch (controller: AbortController): () => void {
    if (this.signal.aborted) {
      controller.abort(this.signal.reason)
      return noop
    }
    this.#watchers.add(controller)
    return () => { this.#watchers.delete(controller) }
  }

  nextRequest (): number {
    return this.#nextRequest++
  }

  #leaseSpan (): number {
    return this.settings.ttlMs * (1 - this.settings.clockDriftMargin)
  }

  #scheduleKeepalive (): void {
    this.#keepaliveTimer = this.#clock.setTimeout(() => {
      this.#keepaliveTimer = undefined
      void this.#keepalive()
    }, this.settings.keepaliveIntervalMs)
  }

  async #keepalive (): Promise<void> {
    if (this.state !== 'live') return
    const sentAt = this.#clock.now()
    // A client that was paused past its lease must not renew as if nothing happened: by its own
    // clock the lease may have run out, and someone else may hold its locks.
    if (sentAt >= this.validUntil) {
      this.lose('lease-timeout')
      return
    }
    try {
      await this.#router.call({ type: 'keepalive', session: this.id }, this.validUntil, this.signal)
      if (this.state !== 'live') return
      this.validUntil = Math.max(this.validUntil, sentAt + this.#leaseSpan())
      this.lastRenewalSentAt = Math.max(this.lastRenewalSentAt, sentAt)
      this.#armWatchdog()
      this.#retryWithdrawals()
      this.#scheduleKeepalive()
    } catch (err) {
      if (this.state !== 'live') return
      this.lose(isSynodError(err, SessionExpiredError.code) ? 'expired' : 'lease-timeout')
    }
  }

  #armWatchdog (): void {
    if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog)
    this.#watchdog = this.#clock.setTimeout(() => {
      this.#watchdog = undefined
      if (this.state !== 'live') return
      if (this.#clock.now() >= this.validUntil) this.lose('lease-timeout')
      else this.#armWatchdog()
    }, Math.max(0, this.validUntil - this.#clock.now()))
  }

  #retryWithdrawals (): void {
    for (const [request, name] of this.abandoned) {
      this.#router.call({ type: 'release', session: this.id, request, name }, this.validUntil, this.signal)
        .then(() => { this.abandoned.delete(request) })
        .catch(() => { /* retried after the next keepalive */ })
    }
  }

  /** Marks the session lost (once): aborts its signal first, so work under its locks stops at once. */
  lose (reason: LossReason): void {
    if (this.state !== 'live') return
    this.state = 'lost'
    this.#clearTimers()
    this.#end(new SessionExpiredError(reason === 'expired'
      ? `session ${this.id} expired`
      : `session ${this.id}: no keepalive succeeded within the lease`))
    this.#hooks.lost(this, reason)
  }

  /** Stops keepalives for a session being closed on purpose. */
  close (): void {
    if (this.state !== 'live') return
    this.state = 'closed'
    this.#clearTimers()
    this.#end(new SessionExpiredError(`session ${this.id} closed`))
  }

  #end (reason: SessionExpiredError): void {
    this.controller.abort(reason)
    const watchers = [...this.#watchers]
    this.#watchers.clear()
    for (const controller of watchers) controller.abort(reason)
  }

  #clearTimers (): void {
    if (this.#keepaliveTimer !== undefined) this.#clock.clearTimeout(this.#keepaliveTimer)
    if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog)
    this.#keepaliveTimer = undefined
    this.#watchdog = undefined
  }
}
