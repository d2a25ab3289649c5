import { describe, expect, it } from 'vitest'
import { createLockStateMachine, encodeCommand } from '../src/index.js'
import { acquire, harness, release } from './helpers/machine-harness.js'

describe('lock state machine: sessions', () => {
  it('names a session by the index that opened it and refuses TTLs out of bounds', () => {
    const h = harness({ minTtlMs: 100, maxTtlMs: 1000 })
    expect(h.run({ type: 'open-session', ttlMs: 500 })).toEqual({ type: 'session-opened', session: 1, ttlMs: 500 })
    expect(h.run({ type: 'open-session', ttlMs: 50 })).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.run({ type: 'open-session', ttlMs: 5000 })).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.machine.sessions().map((s) => s.id)).toEqual([1])
  })

  it('records the renewal index on keepalive and refuses keepalives of unknown sessions', () => {
    const h = harness()
    const s = h.open()
    expect(h.run({ type: 'keepalive', session: s })).toEqual({ type: 'kept-alive', session: s })
    expect(h.machine.session(s)?.renewedIndex).toBe(2)
    expect(h.run({ type: 'keepalive', session: 99 })).toMatchObject({ type: 'error', code: 'ERR_SESSION_EXPIRED' })
  })

  it('expires a session only if it was not renewed since the leader decided', () => {
    const h = harness()
    const s = h.open()
    h.run({ type: 'keepalive', session: s }) // renewed at index 2
    expect(h.run({ type: 'expire-session', session: s, renewedIndex: 1 })).toEqual({ type: 'session-expired', expired: false })
    expect(h.machine.session(s)).toBeDefined()
    expect(h.run({ type: 'expire-session', session: s, renewedIndex: 2 })).toEqual({ type: 'session-expired', expired: true })
    expect(h.machine.session(s)).toBeUndefined()
    expect(h.run(acquire(s, 1, 'a'))).toMatchObject({ type: 'error', code: 'ERR_SESSION_EXPIRED' })
  })
})

describe('lock state machine: mutex', () => {
  it('grants a free lock with the granting index as token and queues the rest in FIFO order', () => {
    const h = harness()
    const [a, b, c] = [h.open(), h.open(), h.open()]
    expect(h.run(acquire(a, 1, 'm'))).toEqual({ type: 'granted', token: 4 })
    expect(h.run(acquire(b, 1, 'm'))).toEqual({ type: 'queued', position: 1 })
    expect(h.run(acquire(c, 1, 'm'))).toEqual({ type: 'queued', position: 2 })
    h.grants.length = 0
    expect(h.run(release(a, 1, 'm'))).toEqual({ type: 'released', was: 'held' })
    // Only the next waiter is woken, with the release's index as its token.
    expect(h.grants).toEqual([{ name: 'm', session: b, request: 1, token: 7 }])
    expect(h.machine.requestState(c, 1, 'm')).toEqual({ state: 'queued', position: 1 })
    h.run(release(b, 1, 'm'))
    expect(h.machine.requestState(c, 1, 'm')).toEqual({ state: 'held', token: 8 })
  })

  it('makes try-lock fail without queueing', () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    h.run(acquire(a, 1, 'm'))
    expect(h.run(acquire(b, 1, 'm', { wait: false }))).toEqual({ type: 'busy' })
    expect(h.machine.lock('m')?.queue).toEqual([])
  })

  it('does not let a newcomer barge past waiters, even with try-lock', () => {
    const h = harness()
    const [a, b, c] = [h.open(), h.open(), h.open()]
    h.run(acquire(a, 1, 'm'))
    h.run(acquire(b, 1, 'm'))
    h.run(release(a, 1, 'm'))
    expect(h.machine.requestState(b, 1, 'm').state).toBe('held')
    expect(h.run(acquire(c, 1, 'm', { wait: false }))).toEqual({ type: 'busy' })
  })

  it('separates requests of one session: two tasks sharing a session still exclude each other', () => {
    const h = harness()
    const a = h.open()
    expect(h.run(acquire(a, 1, 'm')).type).toBe('granted')
    expect(h.run(acquire(a, 2, 'm')).type).toBe('queued')
  })

  it('answers a retried acquire idempotently and refuses a late duplicate after release', () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    const first = h.run(acquire(a, 1, 'm'))
    expect(h.run(acquire(a, 1, 'm'))).toEqual(first)
    h.run(acquire(b, 1, 'm'))
    expect(h.run(acquire(b, 1, 'm'))).toEqual({ type: 'queued', position: 1 })
    h.run(release(a, 1, 'm'))
    h.run(release(b, 1, 'm'))
    // The same request arriving again (a stuck proposal committing late) must not grant anything.
    expect(h.run(acquire(a, 1, 'm'))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.run(acquire(b, 1, 'm'))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.machine.lock('m')).toBeUndefined()
  })

  it('refuses an acquire whose withdrawal committed before it', () => {
    const h = harness()
    const a = h.open()
    expect(h.run(release(a, 7, 'm'))).toEqual({ type: 'released', was: 'none' })
    expect(h.run(acquire(a, 7, 'm'))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.machine.lock('m')).toBeUndefined()
  })

  it('refuses a release from an ended session, so a client can tell lost from already released', () => {
    const h = harness()
    const a = h.open()
    h.run(acquire(a, 1, 'm'))
    h.run({ type: 'expire-session', session: a, renewedIndex: a })
    expect(h.run(release(a, 1, 'm'))).toMatchObject({ type: 'error', code: 'ERR_SESSION_EXPIRED' })
  })

  it('releases idempotently and withdraws queued requests', () => {
    const h = harness()
    const [a, b, c] = [h.open(), h.open(), h.open()]
    h.run(acquire(a, 1, 'm'))
    h.run(acquire(b, 1, 'm'))
    h.run(acquire(c, 1, 'm'))
    expect(h.run(release(b, 1, 'm'))).toEqual({ type: 'released', was: 'queued' })
    expect(h.run(release(b, 1, 'm'))).toEqual({ type: 'released', was: 'none' })
    expect(h.run(release(a, 1, 'm'))).toEqual({ type: 'released', was: 'held' })
    expect(h.run(release(a, 1, 'm'))).toEqual({ type: 'released', was: 'none' })
    expect(h.machine.requestState(c, 1, 'm').state).toBe('held')
  })

  it('forgets a lock nobody holds or waits for', () => {
    const h = harness()
    const a = h.open()
    h.run(acquire(a, 1, 'm'))
    h.run(release(a, 1, 'm'))
    expect(h.machine.locks()).toEqual([])
  })
})

describe('lock state machine: read/write locks and semaphores', () => {
  it('lets readers share, makes a writer wait, and queues later readers behind the writer', () => {
    const h = harness()
    const [r1, r2, w, r3] = [h.open(), h.open(), h.open(), h.open()]
    expect(h.run(acquire(r1, 1, 'rw', { mode: 'shared' })).type).toBe('granted')
    expect(h.run(acquire(r2, 1, 'rw', { mode: 'shared' })).type).toBe('granted')
    expect(h.run(acquire(w, 1, 'rw')).type).toBe('queued')
    expect(h.run(acquire(r3, 1, 'rw', { mode: 'shared' })).type).toBe('queued')
    h.run(release(r1, 1, 'rw'))
    expect(h.machine.requestState(w, 1, 'rw').state).toBe('queued')
    h.run(release(r2, 1, 'rw'))
    expect(h.machine.requestState(w, 1, 'rw').state).toBe('held')
    expect(h.machine.requestState(r3, 1, 'rw').state).toBe('queued')
    h.run(release(w, 1, 'rw'))
    expect(h.machine.requestState(r3, 1, 'rw').state).toBe('held')
  })

  it('wakes a batch of readers at once when a writer leaves', () => {
    const h = harness()
    const [w, r1, r2, w2] = [h.open(), h.open(), h.open(), h.open()]
    h.run(acquire(w, 1, 'rw'))
    h.run(acquire(r1, 1, 'rw', { mode: 'shared' }))
    h.run(acquire(r2, 1, 'rw', { mode: 'shared' }))
    h.run(acquire(w2, 1, 'rw'))
    h.grants.length = 0
    h.run(release(w, 1, 'rw'))
    expect(h.grants.map((g) => g.session)).toEqual([r1, r2])
  })

  it('counts semaphore permits and refuses a mismatched limit or kind', () => {
    const h = harness()
    const [a, b, c] = [h.open(), h.open(), h.open()]
    const sem = { mode: 'semaphore' as const, limit: 3 }
    expect(h.run(acquire(a, 1, 's', { ...sem, permits: 2 })).type).toBe('granted')
    expect(h.run(acquire(b, 1, 's', { ...sem, permits: 1 })).type).toBe('granted')
    expect(h.run(acquire(c, 1, 's', { ...sem, permits: 1 })).type).toBe('queued')
    expect(h.run(acquire(c, 2, 's', { mode: 'semaphore', limit: 4 }))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.run(acquire(c, 3, 's'))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    expect(h.run(acquire(c, 4, 't', { ...sem, permits: 4 }))).toMatchObject({ type: 'error', code: 'ERR_INVALID_ARGUMENT' })
    h.run(release(b, 1, 's'))
    expect(h.machine.requestState(c, 1, 's').state).toBe('held')
  })
})

describe('lock state machine: session loss and lock-delay', () => {
  it('drops an expired session’s holds and waits and hands the lock to the next live waiter', () => {
    const h = harness()
    const [a, b, c] = [h.open(), h.open(), h.open()]
    h.run(acquire(a, 1, 'm'))
    h.run(acquire(b, 1, 'm'))
    h.run(acquire(c, 1, 'm'))
    h.run({ type: 'expire-session', session: b, renewedIndex: b })
    h.run({ type: 'expire-session', session: a, renewedIndex: a })
    expect(h.machine.requestState(c, 1, 'm')).toEqual({ state: 'held', token: h.index })
  })

  it('holds the lock for nobody during lock-delay after a holder is lost, then grants it', () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    h.run(acquire(a, 1, 'm', { lockDelayMs: 500 }))
    h.run(acquire(b, 1, 'm'))
    const delayed: number[] = []
    h.machine.addEventListener('lock-delayed', (e) => { delayed.push(e.detail.delayMs) })
    h.run({ type: 'expire-session', session: a, renewedIndex: a })
    const delayIndex = h.index
    expect(delayed).toEqual([500])
    expect(h.machine.requestState(b, 1, 'm').state).toBe('queued')
    expect(h.run(acquire(b, 2, 'other')).type).toBe('granted')
    expect(h.run({ type: 'lift-delay', name: 'm', delayIndex: delayIndex - 1 })).toEqual({ type: 'delay-lifted', lifted: false })
    expect(h.machine.requestState(b, 1, 'm').state).toBe('queued')
    expect(h.run({ type: 'lift-delay', name: 'm', delayIndex })).toEqual({ type: 'delay-lifted', lifted: true })
    expect(h.machine.requestState(b, 1, 'm').state).toBe('held')
  })

  it('applies no lock-delay when the holder closes its session or releases', () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    h.run(acquire(a, 1, 'm', { lockDelayMs: 500 }))
    h.run(acquire(b, 1, 'm'))
    h.run({ type: 'close-session', session: a })
    expect(h.machine.requestState(b, 1, 'm').state).toBe('held')
    expect(h.machine.delayedLocks()).toEqual([])
  })

  it('keeps a lock in lock-delay even with nobody waiting, so a newcomer waits too', () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    h.run(acquire(a, 1, 'm', { lockDelayMs: 100 }))
    h.run({ type: 'expire-session', session: a, renewedIndex: a })
    expect(h.run(acquire(b, 1, 'm', { wait: false }))).toEqual({ type: 'busy' })
    expect(h.machine.delayedLocks()).toHaveLength(1)
  })
})

describe('lock state machine: robustness and snapshots', () => {
  it('refuses a malformed entry identically instead of throwing', () => {
    const machine = createLockStateMachine()
    expect(machine.apply({ index: 1, term: 1, data: new Uint8Array([0xc1]) })).toMatchObject({ type: 'error', code: 'ERR_BAD_FRAME' })
    expect(machine.apply({ index: 2, term: 1, data: encodeCommand({ type: 'keepalive', session: 1 }).subarray(0, 1) })).toMatchObject({ type: 'error', code: 'ERR_BAD_FRAME' })
    expect(machine.lastApplied()).toBe(2)
  })

  it('restores the whole state from a snapshot and continues identically', async () => {
    const h = harness()
    const [a, b] = [h.open(), h.open()]
    h.run(acquire(a, 1, 'm', { lockDelayMs: 50 }))
    h.run(acquire(b, 1, 'm'))
    h.run(acquire(b, 2, 's', { mode: 'semaphore', limit: 2, permits: 2 }))
    h.run(release(a, 9, 'nothing'))
    const chunks: Uint8Array[] = []
    for await (const chunk of h.machine.snapshot()) chunks.push(chunk)
    const copy = createLockStateMachine({ minTtlMs: 10 })
    await copy.restore((async function * () { yield * chunks })(), { index: h.index, term: 1 })
    expect(copy.sessions()).toEqual(h.machine.sessions())
    expect(copy.locks()).toEqual(h.machine.locks())
    expect(copy.lastApplied()).toBe(h.index)
    // The restored machine makes the same decisions, including the finished-request memory.
    const next = [
      { type: 'expire-session' as const, session: a, renewedIndex: a },
      acquire(a, 9, 'nothing')
    ]
    for (const command of next) {
      const index = h.index + 1
      expect(copy.apply({ index, term: 1, data: encodeCommand(command) })).toEqual(h.run(command))
    }
    expect(copy.locks()).toEqual(h.machine.locks())
  })
})
