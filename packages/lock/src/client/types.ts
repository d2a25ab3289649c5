import type { AbortOptions, Startable, TypedEventTarget } from '@synod/interfaces'
import type { LockMode, SessionId } from '../machine/commands.js'

export interface AcquireOptions extends AbortOptions {
  /**
   * `exclusive` (a mutex, the write side of a read/write lock), `shared` (the read side) or
   * `semaphore` (needs `limit`). @default 'exclusive'
   */
  mode?: LockMode
  /** Semaphore capacity; every user of the name must pass the same value. */
  limit?: number
  /** Semaphore permits to take. @default 1 */
  permits?: number
  /**
   * TTL of the session that holds the lock, in ms. Locks with the same TTL share one session and
   * one keepalive stream. @default the client's `ttlMs`
   */
  ttlMs?: number
  /** Give up waiting after this long with ERR_LOCK_TIMEOUT. @default no limit */
  timeoutMs?: number
  /**
   * Chubby's lock-delay: if this client's session is lost while holding the lock, nobody else is
   * granted it for this long, so requests still in flight from the old holder drain first.
   * @default the client's `lockDelayMs`
   */
  lockDelayMs?: number
}

/** A held lock. */
export interface Lock {
  readonly name: string
  readonly mode: LockMode
  readonly permits: number
  /**
   * The fencing token: the log index of the entry that granted the lock. It strictly increases
   * across exclusive grants of one name, across leaders and restarts. Pass it to the resource.
   */
  readonly token: number
  readonly session: SessionId
  /** Aborts as soon as the lock is released or this client considers its session lost. */
  readonly signal: AbortSignal
  /** True until released or lost, as far as this client knows. */
  readonly held: boolean
  /**
   * Releases the lock; safe to call more than once. Rejects with ERR_NOT_HELD when it cannot
   * confirm that the lock was held until release: the session ended, and no keepalive sent after
   * release was called succeeded (so the lock may have been lost before).
   */
  release(options?: AbortOptions): Promise<void>
}

export interface LockClientEvents {
  /**
   * A session is gone, with every lock it held. `expired`: the cluster expired it;
   * `lease-timeout`: no keepalive succeeded within the lease, so the client gave it up first.
   */
  'session-lost': { session: SessionId, reason: 'expired' | 'lease-timeout', locks: string[] }
  /** A held lock was lost with its session. */
  'lock-lost': { name: string, token: number, session: SessionId }
}

/** A lock service client: sessions, keepalives, acquire/release, fenced tokens. */
export interface LockClient extends Startable, TypedEventTarget<LockClientEvents> {
  /** Waits for the lock (FIFO) and resolves with it. */
  acquire(name: string, options?: AcquireOptions): Promise<Lock>
  /** Takes the lock only if it is free and nobody waits for it; resolves undefined otherwise. */
  tryAcquire(name: string, options?: Omit<AcquireOptions, 'timeoutMs'>): Promise<Lock | undefined>
  /**
   * Runs `fn` holding the lock and releases it after. `signal` aborts as soon as the lock is lost;
   * if it was lost before `fn` finished, withLock rejects with ERR_SESSION_EXPIRED.
   */
  withLock<T>(name: string, fn: (signal: AbortSignal, lock: Lock) => Promise<T>, options?: AcquireOptions): Promise<T>
}
