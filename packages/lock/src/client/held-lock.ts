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
      else {
        const session = this.#session.signal
        if (session.aborted) controller.abort(session.reason)
        else {
          const onLost = (): void => { controller.abort(session.reason) }
          session.addEventListener('abort', onLost, { once: true })
          this.#unlinkSession = () => { session.removeEventListener('abort', onLost) }
        }
      }
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
    try {
      const { result } = await this.#router.call({ type: 'release', session: session.id, request: this.request, name: this.name }, session.validUntil, session.signal)
      if (result.type === 'released' && result.was === 'held') {
        this.#released()
        return
      }
      this.state = 'lost'
      throw new NotHeldError(`${this.name} (token ${this.token}) was no longer held at release`)
    } catch (err) {
      if (isSynodError(err, NotHeldError.code)) throw err
      if (isSynodError(err, SessionExpiredError.code) && session.state === 'live') {
        // The cluster says the session is gone: the lock had been lost before this release.
        this.state = 'lost'
        session.lose('expired')
        throw new NotHeldError(`${this.name} (token ${this.token}) was lost with session ${session.id} before release`)
      }
      // The call gives up only when the lease can no longer be confirmed: the session is lost now.
      if (session.state === 'live' && this.#clock.now() >= session.validUntil) session.lose('lease-timeout')
      if (session.state !== 'live') {
        // The session was given up while the release was in flight. The lock was held when release
        // was called and nobody can be granted it before the cluster expires the session.
        this.#released()
        return
      }
      // Retried with the session's keepalives, so the lock is not left held for nobody.
      session.abandoned.set(this.request, this.name)
      this.#releasing = undefined
      throw err
    }
  }
}
