import type { Clock, Logger, ReplicatedLog, TimerHandle, TypedListener } from '@synod/interfaces'
import type { ReplicatedLogEvents } from '@synod/interfaces'
import { encodeCommand } from '../machine/codec.js'
import type { LockCommand, SessionId } from '../machine/commands.js'
import type { LockMachineEvents, LockStateMachine } from '../machine/lock-machine.js'

interface SessionTimer { deadline: number, renewedIndex: number, proposing: boolean }
interface DelayTimer { liftAt: number, delayIndex: number, proposing: boolean }

export interface LeaseExpirerOptions {
  sweepIntervalMs: number
  proposeTimeoutMs: number
}

/**
 * Decides, on the leader only, when a session's lease has run out or a lock-delay is over, and
 * proposes the matching command through the log. Followers keep no timers: expiry is a log entry
 * like any other, so every replica expires the same session at the same index.
 *
 * A new leader cannot know when the last keepalive reached its predecessor, so it starts every
 * session's lease (and every lock-delay) afresh, in full, from the moment it takes over.
 */
export class LeaseExpirer {
  readonly #log: ReplicatedLog<unknown>
  readonly #machine: LockStateMachine
  readonly #clock: Clock
  readonly #logger: Logger | undefined
  readonly #options: LeaseExpirerOptions
  readonly #sessions = new Map<SessionId, SessionTimer>()
  readonly #delays = new Map<string, DelayTimer>()
  #leaderTerm: number | undefined
  #timer: TimerHandle = undefined
  #running = false

  constructor (log: ReplicatedLog<unknown>, machine: LockStateMachine, clock: Clock, logger: Logger | undefined, options: LeaseExpirerOptions) {
    this.#log = log
    this.#machine = machine
    this.#clock = clock
    this.#logger = logger
    this.#options = options
  }

  readonly #onRole: TypedListener<ReplicatedLogEvents['role']> = (event) => {
    const { role, term } = event.detail
    if (role === 'leader') {
      if (this.#leaderTerm !== term) this.#takeOver(term)
    } else if (this.#leaderTerm !== undefined) {
      this.#stepDown()
    }
  }

  readonly #onRenewed: TypedListener<LockMachineEvents['session-renewed']> = (event) => {
    if (this.#leaderTerm === undefined) return
    const { session, ttlMs, renewedIndex } = event.detail
    this.#sessions.set(session, { deadline: this.#clock.now() + ttlMs, renewedIndex, proposing: false })
  }

  readonly #onEnded: TypedListener<LockMachineEvents['session-ended']> = (event) => {
    this.#sessions.delete(event.detail.session)
  }

  readonly #onDelayed: TypedListener<LockMachineEvents['lock-delayed']> = (event) => {
    if (this.#leaderTerm === undefined) return
    const { name, delayIndex, delayMs } = event.detail
    this.#delays.set(name, { liftAt: this.#clock.now() + delayMs, delayIndex, proposing: false })
  }

  readonly #onRestored: TypedListener<LockMachineEvents['restored']> = () => {
    if (this.#leaderTerm !== undefined) this.#takeOver(this.#leaderTerm)
  }

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#log.addEventListener('role', this.#onRole)
    this.#machine.addEventListener('session-renewed', this.#onRenewed)
    this.#machine.addEventListener('session-ended', this.#onEnded)
    this.#machine.addEventListener('lock-delayed', this.#onDelayed)
    this.#machine.addEventListener('restored', this.#onRestored)
    if (this.#log.isLeader()) this.#takeOver(this.#log.status().term)
  }

  stop (): void {
    if (!this.#running) return
    this.#running = false
    this.#log.removeEventListener('role', this.#onRole)
    this.#machine.removeEventListener('session-renewed', this.#onRenewed)
    this.#machine.removeEventListener('session-ended', this.#onEnded)
    this.#machine.removeEventListener('lock-delayed', this.#onDelayed)
    this.#machine.removeEventListener('restored', this.#onRestored)
    this.#stepDown()
  }

  /** True when this node leads and the session's lease has run out on its clock. */
  isOverdue (session: SessionId): boolean {
    const timer = this.#sessions.get(session)
    return this.#leaderTerm !== undefined && timer !== undefined && timer.deadline <= this.#clock.now()
  }

  /** Proposes the expiry of an overdue session now and waits for it (used before a grant). */
  async expireNow (session: SessionId): Promise<void> {
    const timer = this.#sessions.get(session)
    if (timer === undefined) return
    await this.#propose({ type: 'expire-session', session, renewedIndex: timer.renewedIndex }).catch(() => {})
  }

  #takeOver (term: number): void {
    this.#leaderTerm = term
    const now = this.#clock.now()
    this.#sessions.clear()
    this.#delays.clear()
    // The fresh full TTL: the old leader may have seen a keepalive we never heard about.
    for (const session of this.#machine.sessions()) {
      this.#sessions.set(session.id, { deadline: now + session.ttlMs, renewedIndex: session.renewedIndex, proposing: false })
    }
    for (const { name, delay } of this.#machine.delayedLocks()) {
      this.#delays.set(name, { liftAt: now + delay.ms, delayIndex: delay.index, proposing: false })
    }
    this.#logger?.debug({ term, sessions: this.#sessions.size, delays: this.#delays.size }, 'leading: lease timers restarted in full')
    this.#schedule()
  }

  #stepDown (): void {
    this.#leaderTerm = undefined
    this.#sessions.clear()
    this.#delays.clear()
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule (): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#sweep()
    }, this.#options.sweepIntervalMs)
  }

  #sweep (): void {
    if (this.#leaderTerm === undefined || !this.#running) return
    const now = this.#clock.now()
    for (const [session, timer] of this.#sessions) {
      if (timer.deadline > now || timer.proposing) continue
      timer.proposing = true
      this.#logger?.debug({ session, renewedIndex: timer.renewedIndex }, 'lease ran out: proposing expiry')
      this.#propose({ type: 'expire-session', session, renewedIndex: timer.renewedIndex })
        .catch((err: unknown) => { this.#logger?.debug({ session, err }, 'expiry proposal failed; will retry') })
        .finally(() => { timer.proposing = false })
    }
    for (const [name, timer] of this.#delays) {
      if (timer.liftAt > now || timer.proposing) continue
      timer.proposing = true
      this.#propose({ type: 'lift-delay', name, delayIndex: timer.delayIndex })
        .then(() => { if (this.#delays.get(name) === timer) this.#delays.delete(name) })
        .catch((err: unknown) => { this.#logger?.debug({ name, err }, 'lift-delay proposal failed; will retry') })
        .finally(() => { timer.proposing = false })
    }
    this.#schedule()
  }

  async #propose (command: LockCommand): Promise<void> {
    await this.#log.propose(encodeCommand(command), { timeoutMs: this.#options.proposeTimeoutMs })
  }
}
