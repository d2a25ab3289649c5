import { NotHeldError, SessionExpiredError, isSynodError, throwIfAborted } from '@synod/interfaces'
import type { AbortOptions, Clock } from '@synod/interfaces'
import type { LockMode } from '../machine/commands.js'
import type { ClientSession } from './client-session.js'
import type { Router } from './router.js'
import type { Lock } from './types.js'

export class HeldLock implements Lock {
  readonly name: string
  readonly mode: LockMode
  readonly permits: number
  readonly token: number
  readonly request: number
  readonly #session: ClientSession
  readonly #router: Router
  readonly #clock: Clock
  readonly #onReleased: (lock: HeldLock) => void
  /** Created on first use of `signal`: most locks are released without anyone watching it. */
  #controller: AbortController | undefined
  #unlinkSession: (() => void) | undefined
  state: 'held' | 'released' | 'lost' = 'held'
  #releasing: Promise<void> | undefined

  constructor (init: { name: string, mode: LockMode, permits: number, token: number, request: number }, session: ClientSession, router: Router, clock: Clock, onReleased: (lock: HeldLock) => void) {
    this.name = init.name
    this.mode = init.mode
    this.permits = init.permits
    this.token = init.token
    this.request = init.request
    this.#session = session
    this.#router = router
    this.#clock = clock
    this.#onReleased = onReleased
  }

  get signal (): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController()
      this.#controller = controller
      if (this.state === 'released') controller.abort(new NotHeldError(`${this.name} was released`))
      else this.#unlinkSession = this.#session.watch(controller)
    }
    return this.#controller.signal
  }

  #released (): void {
    this.state = 'released'
    this.#onReleased(this)
    this.#unlinkSession?.()
    this.#controller?.abort(new NotHeldError(`${this.name} was released`))
  }

  get session (): number {
    return this.#session.id
  }

  get held (): boolean {
    return this.state === 'held' && this.#session.state === 'live'
  }

  /** Called when the session is lost. */
  markLost (): void {
    if (this.state === 'held') this.state = 'lost'
  }

  /** Called when the client stops: the session is closed, so the lock is released. */
  markReleased (): void {
    if (this.state !== 'held') return
    this.#released()
  }

  async release (options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal)
    if (this.state === 'released') return
    if (this.state === 'lost' || this.#session.state === 'lost') {
      this.state = 'lost'
      throw new NotHeldError(`${this.name} (token ${this.token}) was lost with session ${this.#session.id} before release`)
    }
    this.#releasing ??= this.#release()
    await this.#releasing
  }

  async #release (): Promise<void> {
    const session = this.#session
    const calledAt = this.#clock.now()
    try {
      const { result } = await this.#router.call({ type: 'release', session: session.id, request: this.request, name: this.name }, session.validUntil, session.signal)
      // The session is live (or the cluster would have refused), and a session's locks are lost
      // only with it: 'none' means an earlier attempt of this release, whose answer we did not
      // get, already released the lock.
      if (result.type === 'released') {
        this.#released()
        return
      }
      throw new NotHeldError(`unexpected reply ${result.type} to release`)
    } catch (err) {
      if (isSynodError(err, NotHeldError.code)) throw err
      const expired = isSynodError(err, SessionExpiredError.code)
      if (!expired && session.state === 'live' && this.#clock.now() < session.validUntil) {
        // Retried with the session's keepalives, so the lock is not left held for nobody.
        session.abandoned.set(this.request, this.name)
        this.#releasing = undefined
        throw err
      }
      // The session is gone. Locks are lost only with their session, so if a keepalive sent after
      // release was called succeeded, the lock was held until this release (an earlier attempt
      // may well have released it). Otherwise nothing proves it was not lost before.
      const heldThrough = session.lastRenewalSentAt >= calledAt
      if (heldThrough) this.#released()
      else this.state = 'lost'
      session.lose(expired ? 'expired' : 'lease-timeout')
      if (heldThrough) return
      throw new NotHeldError(`cannot confirm that ${this.name} (token ${this.token}) was held until release: session ${session.id} ended`)
    }
  }

}
