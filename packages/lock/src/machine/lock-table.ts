import type { LockMode, SessionId } from './commands.js'

/** A request waiting in a lock's FIFO queue. */
export interface Waiter {
  session: SessionId
  request: number
  mode: LockMode
  permits: number
  lockDelayMs: number
}

/** A request holding a lock, with the fencing token it was granted. */
export interface Holder extends Waiter {
  token: number
}

/** A lock delayed after a holder's session was lost; `index` is the entry that set the delay. */
export interface LockDelay {
  index: number
  ms: number
}

/** The replicated state of one lock name. It exists only while someone holds, waits for or delays it. */
export interface LockEntry {
  name: string
  /** Fixed by the first request: a read/write lock (mutexes are its exclusive side) or a semaphore. */
  kind: 'rw' | 'semaphore'
  /** Semaphore capacity in permits; 0 for read/write locks. */
  limit: number
  holders: Map<string, Holder>
  queue: Waiter[]
  delay: LockDelay | undefined
}

export function requestKey (session: SessionId, request: number): string {
  return `${session}/${request}`
}

export function kindOf (mode: LockMode): LockEntry['kind'] {
  return mode === 'semaphore' ? 'semaphore' : 'rw'
}

/** True when `waiter` can hold the lock alongside the current holders. */
export function compatible (lock: LockEntry, waiter: Waiter): boolean {
  if (lock.kind === 'semaphore') {
    let used = 0
    for (const holder of lock.holders.values()) used += holder.permits
    return used + waiter.permits <= lock.limit
  }
  if (waiter.mode === 'exclusive') return lock.holders.size === 0
  for (const holder of lock.holders.values()) {
    if (holder.mode === 'exclusive') return false
  }
  return true
}

/**
 * Grants from the head of the queue while the head is compatible, and stops at the first waiter
 * that is not: strict FIFO, so a stream of readers cannot starve a writer, and only the waiters
 * actually granted are woken (no herd). Returns the new holders.
 */
export function grantFromQueue (lock: LockEntry, token: number, isLive: (session: SessionId) => boolean): Holder[] {
  const granted: Holder[] = []
  if (lock.delay !== undefined) return granted
  while (lock.queue.length > 0) {
    const head = lock.queue[0] as Waiter
    // The lease is re-checked at grant time: a waiter whose session has ended is dropped, never granted.
    if (!isLive(head.session)) {
      lock.queue.shift()
      continue
    }
    if (!compatible(lock, head)) break
    lock.queue.shift()
    const holder: Holder = { ...head, token }
    lock.holders.set(requestKey(head.session, head.request), holder)
    granted.push(holder)
  }
  return granted
}

export function isIdle (lock: LockEntry): boolean {
  return lock.holders.size === 0 && lock.queue.length === 0 && lock.delay === undefined
}
