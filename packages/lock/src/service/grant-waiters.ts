import { NotHeldError, SessionExpiredError } from '@synod/interfaces'
import type { TypedListener } from '@synod/interfaces'
import type { SessionId } from '../machine/commands.js'
import type { LockMachineEvents, LockStateMachine } from '../machine/lock-machine.js'
import { requestKey } from '../machine/lock-table.js'
import type { GrantWait } from './lock-server.js'

interface Waiting {
  wait: GrantWait
  resolve: (grant: { token: number }) => void
  reject: (err: Error) => void
}

/**
 * Parks `awaitGrant` calls on this replica and settles them from its own state machine's
 * notifications: a grant wakes exactly the request granted, a session's end rejects its waits.
 * Because every replica applies every entry, this works the same on the leader and on followers.
 */
export class GrantWaiters {
  readonly #machine: LockStateMachine
  readonly #byRequest = new Map<string, Waiting>()
  readonly #bySession = new Map<SessionId, Set<Waiting>>()
  /** Waits registered before this replica applied their acquire; checked as the replica catches up. */
  readonly #catchingUp = new Set<Waiting>()

  constructor (machine: LockStateMachine) {
    this.#machine = machine
  }

  readonly #onGranted: TypedListener<LockMachineEvents['granted']> = (event) => {
    const { session, request, token } = event.detail
    const waiting = this.#byRequest.get(requestKey(session, request))
    if (waiting === undefined || this.#catchingUp.has(waiting)) return
    this.#remove(waiting)
    waiting.resolve({ token })
  }

  readonly #onWithdrawn: TypedListener<LockMachineEvents['withdrawn']> = (event) => {
    const { session, request, name } = event.detail
    const waiting = this.#byRequest.get(requestKey(session, request))
    if (waiting === undefined || this.#catchingUp.has(waiting)) return
    this.#remove(waiting)
    waiting.reject(new NotHeldError(`request ${request} for ${name} was withdrawn`))
  }

  readonly #onEnded: TypedListener<LockMachineEvents['session-ended']> = (event) => {
    const waits = this.#bySession.get(event.detail.session)
    if (waits === undefined) return
    for (const waiting of [...waits]) {
      if (this.#catchingUp.has(waiting)) continue
      this.#remove(waiting)
      waiting.reject(new SessionExpiredError(`session ${event.detail.session} ended while waiting for ${waiting.wait.name}`))
    }
  }

  readonly #onApplied: TypedListener<LockMachineEvents['applied']> = (event) => {
    for (const waiting of [...this.#catchingUp]) {
      if (waiting.wait.afterIndex <= event.detail.index) {
        this.#catchingUp.delete(waiting)
        this.#check(waiting)
      }
    }
    if (this.#catchingUp.size === 0) this.#machine.removeEventListener('applied', this.#onApplied)
  }

  /** Listens to every applied index only while some wait is ahead of this replica. */
  #startCatchingUp (waiting: Waiting): void {
    if (this.#catchingUp.size === 0) this.#machine.addEventListener('applied', this.#onApplied)
    this.#catchingUp.add(waiting)
  }

  readonly #onRestored: TypedListener<LockMachineEvents['restored']> = () => {
    for (const waiting of [...this.#byRequest.values()]) {
      if (!this.#catchingUp.has(waiting)) this.#check(waiting)
    }
  }

  start (): void {
    this.#machine.addEventListener('granted', this.#onGranted)
    this.#machine.addEventListener('withdrawn', this.#onWithdrawn)
    this.#machine.addEventListener('session-ended', this.#onEnded)
    this.#machine.addEventListener('restored', this.#onRestored)
  }

  stop (reason: Error): void {
    this.#machine.removeEventListener('granted', this.#onGranted)
    this.#machine.removeEventListener('withdrawn', this.#onWithdrawn)
    this.#machine.removeEventListener('session-ended', this.#onEnded)
    this.#machine.removeEventListener('applied', this.#onApplied)
    this.#machine.removeEventListener('restored', this.#onRestored)
    for (const waiting of [...this.#byRequest.values()]) {
      this.#remove(waiting)
      waiting.reject(reason)
    }
  }

  wait (wait: GrantWait, signal: AbortSignal | undefined, onAbort: () => Error): Promise<{ token: number }> {
    return new Promise((resolve, reject) => {
      const key = requestKey(wait.session, wait.request)
      const previous = this.#byRequest.get(key)
      if (previous !== undefined) {
        this.#remove(previous)
        previous.reject(new NotHeldError('superseded by a newer wait for the same request'))
      }
      const abort = (): void => {
        if (this.#byRequest.get(key) !== waiting) return
        this.#remove(waiting)
        reject(onAbort())
      }
      const waiting: Waiting = {
        wait,
        resolve: (grant) => { signal?.removeEventListener('abort', abort); resolve(grant) },
        reject: (err) => { signal?.removeEventListener('abort', abort); reject(err) }
      }
      this.#byRequest.set(key, waiting)
      let waits = this.#bySession.get(wait.session)
      if (waits === undefined) this.#bySession.set(wait.session, waits = new Set())
      waits.add(waiting)
      signal?.addEventListener('abort', abort, { once: true })
      if (this.#machine.lastApplied() < wait.afterIndex) this.#startCatchingUp(waiting)
      else this.#check(waiting)
    })
  }

  /** Settles a wait from the machine's current state, if it is already decided. */
  #check (waiting: Waiting): void {
    const { session, request, name } = waiting.wait
    const state = this.#machine.requestState(session, request, name)
    if (state.state === 'queued') return
    this.#remove(waiting)
    if (state.state === 'held') waiting.resolve({ token: state.token })
    else if (!state.sessionLive) waiting.reject(new SessionExpiredError(`session ${session} has ended`))
    else waiting.reject(new NotHeldError(`request ${request} for ${name} was withdrawn`))
  }

  #remove (waiting: Waiting): void {
    const key = requestKey(waiting.wait.session, waiting.wait.request)
    if (this.#byRequest.get(key) === waiting) this.#byRequest.delete(key)
    if (this.#catchingUp.delete(waiting) && this.#catchingUp.size === 0) this.#machine.removeEventListener('applied', this.#onApplied)
    const waits = this.#bySession.get(waiting.wait.session)
    waits?.delete(waiting)
    if (waits?.size === 0) this.#bySession.delete(waiting.wait.session)
  }
}
