import { BadFrameError, TypedEventEmitter, isSynodError, throwIfAborted } from '@synod/interfaces'
import type { AbortOptions, AppliedCommand, StateMachine, TypedEventTarget } from '@synod/interfaces'
import { decodeCommand, decodeValue, encodeValue } from './codec.js'
import type { LockCommand, LockErrorCode, LockMode, LockResult, SessionId } from './commands.js'
import { compatible, grantFromQueue, isIdle, kindOf, requestKey } from './lock-table.js'
import type { Holder, LockDelay, LockEntry, Waiter } from './lock-table.js'

export interface LockStateMachineOptions {
  /**
   * Shortest session TTL accepted. Keep it well above the log's election timeout, or sessions
   * expire during ordinary leader changes. Every replica must use the same value. @default 1000
   */
  minTtlMs?: number
  /** Longest session TTL accepted. Every replica must use the same value. @default 3600000 */
  maxTtlMs?: number
  /** Longest lock-delay accepted (Chubby caps it at one minute). @default 60000 */
  maxLockDelayMs?: number
  /** Longest lock name, in UTF-16 code units. @default 1024 */
  maxNameLength?: number
}

/** Local notifications from `apply`, on every replica. They never change state. */
export interface LockMachineEvents {
  /** A session was opened or kept alive at `renewedIndex`. The leader restarts its lease timer. */
  'session-renewed': { session: SessionId, ttlMs: number, renewedIndex: number }
  /** A session ended; every request it held or queued is gone. */
  'session-ended': { session: SessionId, reason: 'closed' | 'expired' }
  /** A queued request was withdrawn by its owner before it was granted. */
  withdrawn: { name: string, session: SessionId, request: number }
  /** A request was granted (at once or from the queue). */
  granted: { name: string, session: SessionId, request: number, token: number }
  /** A lock entered a lock-delay at `delayIndex`; the leader lifts it after `delayMs`. */
  'lock-delayed': { name: string, delayIndex: number, delayMs: number }
  /** `index` has been applied. */
  applied: { index: number }
  /** The whole state was replaced by a snapshot as of `index`. */
  restored: { index: number }
}

export interface SessionView {
  id: SessionId
  ttlMs: number
  /** Index of the entry that last opened or renewed the session. */
  renewedIndex: number
  /** Requests held or queued by the session. */
  requests: number
}

export interface LockView {
  name: string
  kind: 'rw' | 'semaphore'
  limit: number
  holders: Array<{ session: SessionId, request: number, mode: LockMode, permits: number, token: number }>
  queue: Array<{ session: SessionId, request: number, mode: LockMode, permits: number }>
  delay: LockDelay | undefined
}

/** Where one request stands. */
export type RequestState =
  | { state: 'held', token: number }
  | { state: 'queued', position: number }
  | { state: 'none', sessionLive: boolean }

/**
 * The lock service's replicated state machine: sessions, locks, FIFO queues and lock-delays.
 * Hand it to a ReplicatedLog; every replica applies the same commands and reaches the same state.
 */
export interface LockStateMachine extends StateMachine<LockResult>, TypedEventTarget<LockMachineEvents> {
  /** The last index applied (or restored); 0 for a fresh machine. */
  lastApplied(): number
  session(id: SessionId): SessionView | undefined
  sessions(): SessionView[]
  lock(name: string): LockView | undefined
  locks(): LockView[]
  /** Locks currently in a lock-delay. */
  delayedLocks(): Array<{ name: string, delay: LockDelay }>
  requestState(session: SessionId, request: number, name: string): RequestState
}

interface SessionEntry {
  id: SessionId
  ttlMs: number
  renewedIndex: number
  /** request id -> lock name, for every request held or queued. */
  requests: Map<number, string>
  /**
   * Requests already answered for good (released, withdrawn, refused, busy): every id up to
   * `finishedThrough`, plus the ids in `finished` above it. Clients number requests 1, 2, 3, ...
   * so the set stays as small as the number of requests in flight.
   */
  finishedThrough: number
  finished: Set<number>
}

function isFinished (session: SessionEntry, request: number): boolean {
  return request <= session.finishedThrough || session.finished.has(request)
}

function markFinished (session: SessionEntry, request: number): void {
  if (isFinished(session, request)) return
  session.finished.add(request)
  while (session.finished.delete(session.finishedThrough + 1)) session.finishedThrough++
}

type PendingEvent = { [K in keyof LockMachineEvents]: { type: K, detail: LockMachineEvents[K] } }[keyof LockMachineEvents]

const snapshotVersion = 1

class LockMachine extends TypedEventEmitter<LockMachineEvents> implements LockStateMachine {
  readonly #options: Required<LockStateMachineOptions>
  #sessions = new Map<SessionId, SessionEntry>()
  #locks = new Map<string, LockEntry>()
  #lastApplied = 0
  /** Events are dispatched after a command is fully applied, so listeners see a consistent state. */
  #pending: PendingEvent[] = []

  constructor (options: LockStateMachineOptions) {
    super()
    this.#options = {
      minTtlMs: options.minTtlMs ?? 1000,
      maxTtlMs: options.maxTtlMs ?? 3_600_000,
      maxLockDelayMs: options.maxLockDelayMs ?? 60_000,
      maxNameLength: options.maxNameLength ?? 1024
    }
  }

  apply (entry: AppliedCommand): LockResult {
    let result: LockResult
    try {
      result = this.#execute(decodeCommand(entry.data), entry.index)
    } catch (err) {
      // A replica must never crash on a bad entry: every replica refuses it identically instead.
      if (!isSynodError(err, BadFrameError.code)) throw err
      result = refuse('ERR_BAD_FRAME', err.message)
    }
    this.#lastApplied = entry.index
    this.#emit({ type: 'applied', detail: { index: entry.index } })
    this.#flush()
    return result
  }

  #execute (command: LockCommand, index: number): LockResult {
    switch (command.type) {
      case 'open-session': return this.#open(command.ttlMs, index)
      case 'keepalive': {
        const session = this.#sessions.get(command.session)
        if (session === undefined) return refuse('ERR_SESSION_EXPIRED', `session ${command.session} has expired`)
        session.renewedIndex = index
        this.#emit({ type: 'session-renewed', detail: { session: session.id, ttlMs: session.ttlMs, renewedIndex: index } })
        return { type: 'kept-alive', session: session.id }
      }
      case 'close-session': {
        const existed = this.#sessions.has(command.session)
        if (existed) this.#endSession(command.session, 'closed', index)
        return { type: 'session-closed', session: command.session, existed }
      }
      case 'acquire': return this.#acquire(command, index)
      case 'release': return this.#release(command.session, command.request, command.name, index)
      case 'expire-session': {
        const session = this.#sessions.get(command.session)
        // A keepalive committed after the leader decided wins: the client did reach the log in time.
        if (session === undefined || session.renewedIndex !== command.renewedIndex) return { type: 'session-expired', expired: false }
        this.#endSession(session.id, 'expired', index)
        return { type: 'session-expired', expired: true }
      }
      case 'lift-delay': {
        const lock = this.#locks.get(command.name)
        if (lock?.delay === undefined || lock.delay.index !== command.delayIndex) return { type: 'delay-lifted', lifted: false }
        lock.delay = undefined
        this.#grant(lock, index)
        this.#collect(lock)
        return { type: 'delay-lifted', lifted: true }
      }
    }
  }

  #open (ttlMs: number, index: number): LockResult {
    const { minTtlMs, maxTtlMs } = this.#options
    if (ttlMs < minTtlMs || ttlMs > maxTtlMs) return refuse('ERR_INVALID_ARGUMENT', `ttl ${ttlMs} ms is outside [${minTtlMs}, ${maxTtlMs}]`)
    // The opening entry's index names the session: unique across leaders and restarts.
    this.#sessions.set(index, { id: index, ttlMs, renewedIndex: index, requests: new Map(), finishedThrough: 0, finished: new Set() })
    this.#emit({ type: 'session-renewed', detail: { session: index, ttlMs, renewedIndex: index } })
    return { type: 'session-opened', session: index, ttlMs }
  }

  #acquire (command: Extract<LockCommand, { type: 'acquire' }>, index: number): LockResult {
    const session = this.#sessions.get(command.session)
    // The lease is checked when the grant is decided, in log order: a lock is never granted to a
    // session whose expiry committed earlier (etcd issue 11456).
    if (session === undefined) return refuse('ERR_SESSION_EXPIRED', `session ${command.session} has expired`)
    const invalid = this.#validate(command)
    if (invalid !== undefined) {
      markFinished(session, command.request)
      return refuse('ERR_INVALID_ARGUMENT', invalid)
    }

    const key = requestKey(command.session, command.request)
    const lock = this.#locks.get(command.name)
    if (lock !== undefined) {
      const held = lock.holders.get(key)
      if (held !== undefined) return { type: 'granted', token: held.token }
      const position = lock.queue.findIndex((w) => w.session === command.session && w.request === command.request)
      if (position >= 0) return { type: 'queued', position: position + 1 }
      if (lock.kind !== kindOf(command.mode)) return refuse('ERR_INVALID_ARGUMENT', `lock ${command.name} is a ${lock.kind === 'rw' ? 'read/write lock' : 'semaphore'}`)
      if (lock.kind === 'semaphore' && lock.limit !== command.limit) return refuse('ERR_INVALID_ARGUMENT', `semaphore ${command.name} has limit ${lock.limit}, not ${command.limit}`)
    }
    if (session.requests.has(command.request) || isFinished(session, command.request)) {
      // A late duplicate of a request that was already answered, withdrawn or released must not
      // grant a lock nobody is waiting for any more.
      return refuse('ERR_INVALID_ARGUMENT', `request ${command.request} of session ${command.session} is already used`)
    }

    const waiter: Waiter = { session: command.session, request: command.request, mode: command.mode, permits: command.permits, lockDelayMs: command.lockDelayMs }
    const entry: LockEntry = lock ?? { name: command.name, kind: kindOf(command.mode), limit: command.limit, holders: new Map(), queue: [], delay: undefined }
    // No barging: a newcomer is granted at once only if nobody is waiting ahead of it.
    if (entry.delay === undefined && entry.queue.length === 0 && compatible(entry, waiter)) {
      const holder: Holder = { ...waiter, token: index }
      entry.holders.set(key, holder)
      this.#locks.set(entry.name, entry)
      session.requests.set(command.request, entry.name)
      this.#emit({ type: 'granted', detail: { name: entry.name, session: holder.session, request: holder.request, token: index } })
      return { type: 'granted', token: index }
    }
    if (!command.wait) {
      markFinished(session, command.request)
      return { type: 'busy' }
    }
    entry.queue.push(waiter)
    this.#locks.set(entry.name, entry)
    session.requests.set(command.request, entry.name)
    return { type: 'queued', position: entry.queue.length }
  }

  #validate (command: Extract<LockCommand, { type: 'acquire' }>): string | undefined {
    if (command.name.length === 0 || command.name.length > this.#options.maxNameLength) return 'lock name must be 1 to ' + String(this.#options.maxNameLength) + ' characters'
    if (command.lockDelayMs < 0 || command.lockDelayMs > this.#options.maxLockDelayMs) return `lock-delay must be within [0, ${this.#options.maxLockDelayMs}] ms`
    if (command.mode === 'semaphore') {
      if (command.limit < 1) return 'semaphore limit must be at least 1'
      if (command.permits < 1 || command.permits > command.limit) return `permits must be within [1, ${command.limit}]`
    } else if (command.permits !== 1 || command.limit !== 0) {
      return 'read/write locks take one permit and no limit'
    }
    return undefined
  }

  #release (sessionId: SessionId, request: number, name: string, index: number): LockResult {
    const session = this.#sessions.get(sessionId)
    // A session's locks are lost only with the session: saying so lets a client tell "lost" from
    // "already released by my own earlier attempt" (was: 'none' on a live session).
    if (session === undefined) return refuse('ERR_SESSION_EXPIRED', `session ${sessionId} has expired`)
    // Remembered even when nothing was held: a withdrawn acquire that commits later is refused.
    markFinished(session, request)
    const lock = this.#locks.get(name)
    if (lock === undefined) return { type: 'released', was: 'none' }
    const key = requestKey(sessionId, request)
    let was: 'held' | 'queued' | 'none' = 'none'
    if (lock.holders.delete(key)) {
      was = 'held'
    } else {
      const position = lock.queue.findIndex((w) => w.session === sessionId && w.request === request)
      if (position >= 0) {
        lock.queue.splice(position, 1)
        was = 'queued'
        this.#emit({ type: 'withdrawn', detail: { name, session: sessionId, request } })
      }
    }
    if (was !== 'none') {
      session.requests.delete(request)
      this.#grant(lock, index)
      this.#collect(lock)
    }
    return { type: 'released', was }
  }

  #endSession (sessionId: SessionId, reason: 'closed' | 'expired', index: number): void {
    const session = this.#sessions.get(sessionId)
    if (session === undefined) return
    this.#sessions.delete(sessionId)
    const touched = new Set<LockEntry>()
    for (const [request, name] of session.requests) {
      const lock = this.#locks.get(name)
      if (lock === undefined) continue
      const key = requestKey(sessionId, request)
      const holder = lock.holders.get(key)
      if (holder !== undefined) {
        lock.holders.delete(key)
        // Chubby's lock-delay applies only when a holder is lost, not when it lets go.
        if (reason === 'expired' && holder.lockDelayMs > 0) {
          lock.delay = { index, ms: Math.max(holder.lockDelayMs, lock.delay?.ms ?? 0) }
        }
      } else {
        lock.queue = lock.queue.filter((w) => !(w.session === sessionId && w.request === request))
      }
      touched.add(lock)
    }
    this.#emit({ type: 'session-ended', detail: { session: sessionId, reason } })
    for (const lock of touched) {
      if (lock.delay?.index === index) this.#emit({ type: 'lock-delayed', detail: { name: lock.name, delayIndex: index, delayMs: lock.delay.ms } })
      this.#grant(lock, index)
      this.#collect(lock)
    }
  }

  #grant (lock: LockEntry, index: number): void {
    for (const holder of grantFromQueue(lock, index, (session) => this.#sessions.has(session))) {
      this.#emit({ type: 'granted', detail: { name: lock.name, session: holder.session, request: holder.request, token: holder.token } })
    }
  }

  #collect (lock: LockEntry): void {
    if (isIdle(lock)) this.#locks.delete(lock.name)
  }

  #emit (event: PendingEvent): void {
    this.#pending.push(event)
  }

  #flush (): void {
    const events = this.#pending
    this.#pending = []
    for (const event of events) this.safeDispatch(event.type, event.detail)
  }

  lastApplied (): number {
    return this.#lastApplied
  }

  session (id: SessionId): SessionView | undefined {
    const session = this.#sessions.get(id)
    return session === undefined ? undefined : viewSession(session)
  }

  sessions (): SessionView[] {
    return [...this.#sessions.values()].map(viewSession)
  }

  lock (name: string): LockView | undefined {
    const lock = this.#locks.get(name)
    return lock === undefined ? undefined : viewLock(lock)
  }

  locks (): LockView[] {
    return [...this.#locks.values()].map(viewLock)
  }

  delayedLocks (): Array<{ name: string, delay: LockDelay }> {
    const delayed: Array<{ name: string, delay: LockDelay }> = []
    for (const lock of this.#locks.values()) {
      if (lock.delay !== undefined) delayed.push({ name: lock.name, delay: { ...lock.delay } })
    }
    return delayed
  }

  requestState (sessionId: SessionId, request: number, name: string): RequestState {
    const sessionLive = this.#sessions.has(sessionId)
    const lock = this.#locks.get(name)
    const holder = lock?.holders.get(requestKey(sessionId, request))
    if (holder !== undefined) return { state: 'held', token: holder.token }
    const position = lock?.queue.findIndex((w) => w.session === sessionId && w.request === request) ?? -1
    if (position >= 0) return { state: 'queued', position: position + 1 }
    return { state: 'none', sessionLive }
  }

  async * snapshot (options?: AbortOptions): AsyncIterable<Uint8Array> {
    throwIfAborted(options?.signal)
    // Encoded synchronously, so the bytes are exactly the state as of the last applied command.
    const data = encodeValue({
      v: snapshotVersion,
      applied: this.#lastApplied,
      sessions: [...this.#sessions.values()].map((s) => [s.id, s.ttlMs, s.renewedIndex, [...s.requests], s.finishedThrough, [...s.finished]]),
      locks: [...this.#locks.values()].map((l) => [
        l.name, l.kind, l.limit,
        [...l.holders.values()].map((h) => [h.session, h.request, h.mode, h.permits, h.lockDelayMs, h.token]),
        l.queue.map((w) => [w.session, w.request, w.mode, w.permits, w.lockDelayMs]),
        l.delay === undefined ? null : [l.delay.index, l.delay.ms]
      ])
    })
    yield data
  }

  async restore (chunks: AsyncIterable<Uint8Array>, meta: { index: number, term: number }, options?: AbortOptions): Promise<void> {
    const parts: Uint8Array[] = []
    for await (const chunk of chunks) {
      throwIfAborted(options?.signal)
      parts.push(chunk)
    }
    const state = parseSnapshot(decodeValue(Buffer.concat(parts)))
    this.#sessions = state.sessions
    this.#locks = state.locks
    this.#lastApplied = meta.index
    this.#pending = []
    this.safeDispatch('restored', { index: meta.index })
  }
}

function refuse (code: LockErrorCode, message: string): LockResult {
  return { type: 'error', code, message }
}

function viewSession (session: SessionEntry): SessionView {
  return { id: session.id, ttlMs: session.ttlMs, renewedIndex: session.renewedIndex, requests: session.requests.size }
}

function viewLock (lock: LockEntry): LockView {
  return {
    name: lock.name,
    kind: lock.kind,
    limit: lock.limit,
    holders: [...lock.holders.values()].map(({ session, request, mode, permits, token }) => ({ session, request, mode, permits, token })),
    queue: lock.queue.map(({ session, request, mode, permits }) => ({ session, request, mode, permits })),
    delay: lock.delay === undefined ? undefined : { ...lock.delay }
  }
}

function parseSnapshot (value: unknown): { sessions: Map<SessionId, SessionEntry>, locks: Map<string, LockEntry> } {
  const bad = (): never => { throw new BadFrameError('lock snapshot: unexpected shape') }
  if (typeof value !== 'object' || value === null) return bad()
  const raw = value as { v?: unknown, sessions?: unknown, locks?: unknown }
  if (raw.v !== snapshotVersion || !Array.isArray(raw.sessions) || !Array.isArray(raw.locks)) return bad()
  const sessions = new Map<SessionId, SessionEntry>()
  for (const [id, ttlMs, renewedIndex, requests, finishedThrough, finished] of raw.sessions as Array<[number, number, number, Array<[number, string]>, number, number[]]>) {
    sessions.set(id, { id, ttlMs, renewedIndex, requests: new Map(requests), finishedThrough, finished: new Set(finished) })
  }
  const locks = new Map<string, LockEntry>()
  type RawHolder = [SessionId, number, LockMode, number, number, number]
  type RawWaiter = [SessionId, number, LockMode, number, number]
  for (const [name, kind, limit, holders, queue, delay] of raw.locks as Array<[string, 'rw' | 'semaphore', number, RawHolder[], RawWaiter[], [number, number] | null]>) {
    locks.set(name, {
      name,
      kind,
      limit,
      holders: new Map(holders.map(([session, request, mode, permits, lockDelayMs, token]) =>
        [requestKey(session, request), { session, request, mode, permits, lockDelayMs, token }])),
      queue: queue.map(([session, request, mode, permits, lockDelayMs]) => ({ session, request, mode, permits, lockDelayMs })),
      delay: delay === null ? undefined : { index: delay[0], ms: delay[1] }
    })
  }
  return { sessions, locks }
}

/**
 * Creates the lock state machine. Pass it to the ReplicatedLog (Raft or Paxos) of every replica,
 * with the same options everywhere.
 */
export function createLockStateMachine (options: LockStateMachineOptions = {}): LockStateMachine {
  return new LockMachine(options)
}
