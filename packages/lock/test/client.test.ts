import { describe, expect, it } from 'vitest'
import { TimeoutError } from '@synod/interfaces'
import { createFencedResource } from '../src/index.js'
import type { Lock, LockClientEvents, LockServer } from '../src/index.js'
import { cuttable, drive } from './helpers/drive.js'
import { testCluster } from './helpers/setup.js'
import { JumpingClock, PausableClock, VirtualClock } from './helpers/virtual-clock.js'

describe('lock client: acquire and release', () => {
  it('acquires, reports a fencing token, and releases idempotently', async () => {
    const t = await testCluster()
    const locks = t.client()
    const first = await drive(t.clock, locks.acquire('m'))
    expect(first.held).toBe(true)
    expect(t.machine('n2').lock('m')?.holders).toEqual([expect.objectContaining({ session: first.session, token: first.token })])
    await first.release()
    await first.release()
    expect(first.held).toBe(false)
    expect(first.signal.aborted).toBe(true)
    expect(t.machine('n3').lock('m')).toBeUndefined()
    const second = await drive(t.clock, locks.acquire('m'))
    expect(second.token).toBeGreaterThan(first.token)
    await t.stop()
  })

  it('runs withLock’s function under the lock and releases it after, even when the function throws', async () => {
    const t = await testCluster()
    const locks = t.client()
    const value = await drive(t.clock, locks.withLock('m', async (signal, lock) => {
      expect(signal.aborted).toBe(false)
      expect(t.machine('n1').lock('m')?.holders[0]?.token).toBe(lock.token)
      return 42
    }))
    expect(value).toBe(42)
    expect(t.machine('n1').lock('m')).toBeUndefined()
    await expect(drive(t.clock, locks.withLock('m', async () => { throw new Error('boom') }))).rejects.toThrow('boom')
    expect(t.machine('n1').lock('m')).toBeUndefined()
    await t.stop()
  })

  it('try-lock returns undefined while another client holds the lock', async () => {
    const t = await testCluster()
    const [a, b] = [t.client(), t.client()]
    const held = await drive(t.clock, a.acquire('m'))
    expect(await drive(t.clock, b.tryAcquire('m'))).toBeUndefined()
    await held.release()
    const taken = await drive(t.clock, b.tryAcquire('m'))
    expect(taken?.held).toBe(true)
    await t.stop()
  })

  it('grants waiters in the order they asked', async () => {
    const t = await testCluster()
    const holder = await drive(t.clock, t.client().acquire('m'))
    const order: string[] = []
    const waiting: Array<Promise<Lock>> = []
    for (const who of ['b', 'c', 'd']) {
      const pending = t.client().acquire('m')
      waiting.push(pending.then((lock) => { order.push(who); return lock }))
      await t.clock.until(() => (t.machine('n1').lock('m')?.queue.length ?? 0) === order.length + waiting.length, 1000)
    }
    await holder.release()
    for (const pending of waiting) {
      const lock = await drive(t.clock, pending)
      await lock.release()
    }
    expect(order).toEqual(['b', 'c', 'd'])
    await t.stop()
  })

  it('gives up after timeoutMs with ERR_LOCK_TIMEOUT and withdraws from the queue', async () => {
    const t = await testCluster()
    const holder = await drive(t.clock, t.client().acquire('m'))
    const b = t.client()
    await expect(drive(t.clock, b.acquire('m', { timeoutMs: 300 }))).rejects.toMatchObject({ code: 'ERR_LOCK_TIMEOUT' })
    expect(t.machine('n2').lock('m')?.queue).toEqual([])
    await holder.release()
    expect(t.machine('n2').lock('m')).toBeUndefined()
    await t.stop()
  })

  it('stops waiting when the signal aborts and withdraws from the queue', async () => {
    const t = await testCluster()
    await drive(t.clock, t.client().acquire('m'))
    const controller = new AbortController()
    const pending = t.client().acquire('m', { signal: controller.signal })
    await t.clock.advance(50)
    controller.abort()
    await expect(drive(t.clock, pending)).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(t.machine('n1').lock('m')?.queue).toEqual([])
    await t.stop()
  })

  it('ends queued acquires with ERR_SESSION_EXPIRED when their session is lost, with or without a signal or timeout of their own', async () => {
    const t = await testCluster()
    const holder = await drive(t.clock, t.client().acquire('m'))
    const { servers, cut } = cuttable(t.servers)
    const locks = t.client({ ttlMs: 1000 }, t.clock, servers)
    // Without a signal or a timeout the session's own signal ends the acquire (no controller of its own).
    const outcomes = Promise.allSettled([
      locks.acquire('m'),
      locks.acquire('m', { signal: new AbortController().signal }),
      locks.acquire('m', { timeoutMs: 60_000 })
    ])
    await t.clock.until(() => t.machine('n1').lock('m')?.queue.length === 3, 1000)
    cut(true)
    const settled = await drive(t.clock, outcomes, 5000)
    expect(settled.map((outcome) => outcome.status === 'rejected' ? (outcome.reason as { code?: unknown }).code : outcome.status))
      .toEqual(['ERR_SESSION_EXPIRED', 'ERR_SESSION_EXPIRED', 'ERR_SESSION_EXPIRED'])
    cut(false)
    await holder.release()
    await t.stop()
  })

  it('lets many acquires and held locks share a session without a listener each on its signal', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error): void => { warnings.push(warning.name) }
    process.on('warning', onWarning)
    try {
      const t = await testCluster()
      const holder = await drive(t.clock, t.client().acquire('m'))
      // The replicas do not see the client's signals: only the client's own listeners are counted.
      const servers: LockServer[] = t.servers.map((server) => ({
        id: server.id,
        execute: async (request, options) => await server.execute(request, { timeoutMs: options?.timeoutMs }),
        awaitGrant: async (wait, options) => await server.awaitGrant(wait, options)
      }))
      const locks = t.client({}, t.clock, servers)
      const controllers = Array.from({ length: 12 }, () => new AbortController())
      const plain = Array.from({ length: 12 }, async () => locks.acquire('m'))
      const signalled = Promise.allSettled(controllers.map(async (controller) => locks.acquire('m', { signal: controller.signal })))
      await t.clock.until(() => t.machine('n1').lock('m')?.queue.length === 24, 1000)
      for (const controller of controllers) controller.abort()
      expect((await drive(t.clock, signalled)).every((outcome) => outcome.status === 'rejected')).toBe(true)
      const held = await Promise.all(Array.from({ length: 12 }, async (_, i) => drive(t.clock, locks.acquire(`n${i}`))))
      expect(held.every((lock) => !lock.signal.aborted)).toBe(true)
      // Node reports a listener leak on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).not.toContain('MaxListenersExceededWarning')
      for (const lock of held) await lock.release()
      expect(held.every((lock) => lock.signal.aborted)).toBe(true)
      await holder.release()
      for (const waiter of plain) await (await drive(t.clock, waiter)).release()
      await t.stop()
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('shares a read lock and counts semaphore permits', async () => {
    const t = await testCluster()
    const [a, b, c] = [t.client(), t.client(), t.client()]
    const r1 = await drive(t.clock, a.acquire('rw', { mode: 'shared' }))
    const r2 = await drive(t.clock, b.acquire('rw', { mode: 'shared' }))
    expect(r1.token).toBeLessThan(r2.token)
    expect(await drive(t.clock, c.tryAcquire('rw'))).toBeUndefined()
    const sem = { mode: 'semaphore' as const, limit: 2 }
    await drive(t.clock, a.acquire('pool', sem))
    await drive(t.clock, b.acquire('pool', sem))
    expect(await drive(t.clock, c.tryAcquire('pool', sem))).toBeUndefined()
    await expect(c.acquire('pool', { mode: 'semaphore' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(drive(t.clock, c.acquire('pool', { mode: 'semaphore', limit: 3 }))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await t.stop()
  })

  it('treats a release whose first answer was lost as done when the retry finds nothing held', async () => {
    const t = await testCluster()
    let dropNextReleaseReply = false
    const servers = t.servers.map((server) => ({
      ...server,
      execute: async (request: Parameters<typeof server.execute>[0], options?: Parameters<typeof server.execute>[1]) => {
        const response = await server.execute(request, options)
        if (request.type === 'release' && dropNextReleaseReply) {
          dropNextReleaseReply = false
          throw new TimeoutError('reply lost', { indeterminate: true })
        }
        return response
      }
    }))
    const lock = await drive(t.clock, t.client({}, t.clock, servers).acquire('m'))
    dropNextReleaseReply = true
    await drive(t.clock, lock.release())
    expect(lock.held).toBe(false)
    expect(t.machine('n1').lock('m')).toBeUndefined()
    await t.stop()
  })

  it('releases everything when the client stops, so the next waiter gets the lock', async () => {
    const t = await testCluster()
    const a = t.client()
    const lock = await drive(t.clock, a.acquire('m'))
    const waiting = t.client().acquire('m')
    await t.clock.advance(20)
    await drive(t.clock, a.stop())
    expect(lock.held).toBe(false)
    expect((await drive(t.clock, waiting)).token).toBeGreaterThan(lock.token)
    await expect(a.acquire('m')).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await t.stop()
  })
})

describe('lock client: sessions, keepalive and leader changes', () => {
  it('keeps its lock through many TTLs and leader changes, starting from a follower', async () => {
    const t = await testCluster()
    const locks = t.client({}, t.clock, [...t.servers].reverse())
    const lost: unknown[] = []
    locks.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const lock = await drive(t.clock, locks.acquire('m'))
    for (const leader of ['n2', 'n3', 'n1', 'n3', 'n2', 'n1']) {
      await t.clock.advance(700)
      t.cluster.elect(leader)
    }
    await t.clock.advance(2000)
    expect(lost).toEqual([])
    expect(lock.held).toBe(true)
    expect(t.machine('n3').lock('m')?.holders[0]?.token).toBe(lock.token)
    await t.stop()
  })

  it('gives its session up on its own clock before the leader can expire it, and says so', async () => {
    const t = await testCluster()
    const { servers, cut } = cuttable(t.servers)
    const locks = t.client({ ttlMs: 1000 }, t.clock, servers)
    const events: Array<LockClientEvents['session-lost'] | LockClientEvents['lock-lost']> = []
    locks.addEventListener('session-lost', (e) => { events.push(e.detail) })
    locks.addEventListener('lock-lost', (e) => { events.push(e.detail) })
    const lock = await drive(t.clock, locks.acquire('m'))
    let abortedAt: number | undefined
    lock.signal.addEventListener('abort', () => { abortedAt = t.clock.now() })
    let expiredAt: number | undefined
    t.machine('n1').addEventListener('session-ended', () => { expiredAt ??= t.clock.now() })
    cut(true)
    await t.clock.until(() => expiredAt !== undefined, 5000)
    expect(abortedAt).toBeDefined()
    expect(abortedAt).toBeLessThan(expiredAt as number)
    expect(events).toEqual([
      { name: 'm', token: lock.token, session: lock.session },
      { session: lock.session, reason: 'lease-timeout', locks: ['m'] }
    ])
    cut(false)
    await expect(lock.release()).rejects.toMatchObject({ code: 'ERR_NOT_HELD' })
    // A fresh session serves the next acquire.
    const again = await drive(t.clock, locks.acquire('m'))
    expect(again.session).not.toBe(lock.session)
    await t.stop()
  })

  it('applies the lock-delay after losing a holder before anyone else gets the lock', async () => {
    const t = await testCluster()
    const { servers, cut } = cuttable(t.servers)
    const a = t.client({ ttlMs: 1000 }, t.clock, servers)
    await drive(t.clock, a.acquire('m', { lockDelayMs: 500 }))
    let expiredAt: number | undefined
    t.machine('n1').addEventListener('session-ended', () => { expiredAt ??= t.clock.now() })
    const waiting = t.client({ ttlMs: 5000 }).acquire('m')
    cut(true)
    const lock = await drive(t.clock, waiting)
    expect(t.clock.now() - (expiredAt as number)).toBeGreaterThanOrEqual(500)
    expect(lock.held).toBe(true)
    await t.stop()
  })
})

describe('lock client: the cases a lease alone cannot protect', () => {
  it('a client paused past its TTL loses the lock, and the fenced resource rejects its stale write', async () => {
    const t = await testCluster()
    const pausable = new PausableClock(t.clock)
    const a = t.client({ ttlMs: 1000 }, pausable)
    const b = t.client({ ttlMs: 1000 })
    const counter = createFencedResource(0)
    let staleWrite: unknown
    const slow = a.withLock('counter', async (signal, lock) => {
      expect(signal.aborted).toBe(false)
      const seen = counter.read(lock.token)
      // A stop-the-world pause between the check and the write, longer than the TTL.
      pausable.pause()
      await new Promise<void>((resolve) => { t.clock.setTimeout(resolve, 3000) })
      pausable.resume()
      try {
        counter.update(lock.token, () => seen + 1)
      } catch (err) {
        staleWrite = err
      }
    })
    const slowOutcome = expect(slow).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' })
    await t.clock.advance(1500)
    await drive(t.clock, b.withLock('counter', async (_signal, lock) => { counter.update(lock.token, (n) => n + 1) }))
    await t.clock.advance(2000)
    await slowOutcome
    expect(staleWrite).toMatchObject({ code: 'ERR_NOT_HELD' })
    expect(counter.peek()).toBe(1)
    await t.stop()
  })

  it('a leader clock that jumps expires leases early; fencing still rejects the old holder', async () => {
    const clock = new VirtualClock()
    const leaderClock = new JumpingClock(clock)
    const t = await testCluster({ clock, nodeClocks: { n1: leaderClock } })
    const a = t.client({ ttlMs: 1000 })
    const b = t.client({ ttlMs: 1000 })
    const counter = createFencedResource(0)
    const lockA = await drive(t.clock, a.acquire('counter'))
    leaderClock.jump(10_000)
    const lockB = await drive(t.clock, b.acquire('counter'))
    // Client A's own clock says its lease is still good: the lease alone cannot tell it otherwise.
    expect(lockA.held).toBe(true)
    counter.update(lockB.token, (n) => n + 1)
    expect(() => counter.update(lockA.token, (n) => n + 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_HELD' }))
    expect(counter.peek()).toBe(1)
    // The next keepalive tells A.
    await t.clock.advance(400)
    expect(lockA.held).toBe(false)
    expect(lockA.signal.aborted).toBe(true)
    await t.stop()
  })
})
