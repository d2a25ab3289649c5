/**
 * The commands the lock state machine applies and the results it returns.
 *
 * Every decision that depends on time (a session's lease ran out, a lock-delay is over) arrives
 * here as a command proposed by the leader, so `apply` never reads a clock.
 */

/** Session ids and request ids are plain numbers; a session id is the log index that opened it. */
export type SessionId = number

/** How a lock is held. `exclusive`/`shared` are the two sides of a read/write lock; a mutex is `exclusive`. */
export type LockMode = 'exclusive' | 'shared' | 'semaphore'

export type LockCommand =
  /** Opens a session whose lease lasts `ttlMs` after each keepalive. */
  | { type: 'open-session', ttlMs: number }
  | { type: 'keepalive', session: SessionId }
  /** Ends a session cleanly: its locks are released at once, with no lock-delay. */
  | { type: 'close-session', session: SessionId }
  | {
    type: 'acquire'
    session: SessionId
    /** Unique per session; retrying the same request is idempotent. */
    request: number
    name: string
    mode: LockMode
    /** Permits taken (semaphores); 1 otherwise. */
    permits: number
    /** Capacity of a semaphore; must match the existing one. 0 for read/write locks. */
    limit: number
    /** Queue if the lock is busy; false makes this a try-lock. */
    wait: boolean
    /** Chubby's lock-delay: if this holder's session is lost, nobody else gets the lock for this long. */
    lockDelayMs: number
  }
  /**
   * Releases a held request or withdraws a queued one. Idempotent: `was: 'none'` when the request
   * holds and waits for nothing (already released, or never granted). Refused with
   * ERR_SESSION_EXPIRED once the session is gone, which is how its locks are lost.
   */
  | { type: 'release', session: SessionId, request: number, name: string }
  /**
   * Proposed by the leader when a lease ran out on its clock. Applies only if the session has not
   * been renewed since `renewedIndex`, so a keepalive that committed first always wins.
   */
  | { type: 'expire-session', session: SessionId, renewedIndex: number }
  /** Proposed by the leader when a lock-delay is over; applies only to the delay set at `delayIndex`. */
  | { type: 'lift-delay', name: string, delayIndex: number }

/** Error codes a command can be refused with (the same codes as the typed errors in @synod/interfaces). */
export type LockErrorCode = 'ERR_SESSION_EXPIRED' | 'ERR_INVALID_ARGUMENT' | 'ERR_BAD_FRAME'

export type LockResult =
  | { type: 'session-opened', session: SessionId, ttlMs: number }
  | { type: 'kept-alive', session: SessionId }
  | { type: 'session-closed', session: SessionId, existed: boolean }
  /** The request holds the lock. `token` is the fencing token: the log index of the granting entry. */
  | { type: 'granted', token: number }
  /** The request waits; `position` is 1 for the next in line. */
  | { type: 'queued', position: number }
  /** Try-lock found the lock busy; nothing was queued. */
  | { type: 'busy' }
  | { type: 'released', was: 'held' | 'queued' | 'none' }
  | { type: 'session-expired', expired: boolean }
  | { type: 'delay-lifted', lifted: boolean }
  | { type: 'error', code: LockErrorCode, message: string }
