import { describe, expect, it } from 'vitest'
import { AbortError } from '@synod/interfaces'
import type { LockResponse } from '../src/index.js'
import { testCluster } from './helpers/setup.js'

function sessionOf (response: LockResponse): number {
  if (response.result.type !== 'session-opened') throw new Error('expected a session')
  return response.result.session
}

describe('lock service: lease expiry on the leader', () => {
  it('expires a silent session once its TTL has passed on the leader, on every replica', async () => {
    const t = await testCluster()
    const session = sessionOf(await t.service('n1').execute({ type: 'open-session', ttlMs: 1000 }))
    await t.clock.advance(950)
    expect(t.machine('n2').session(session)).toBeDefined()
    await t.clock.advance(100)
    for (const id of ['n1', 'n2', 'n3']) expect(t.machine(id).session(session)).toBeUndefined()
    await t.stop()
  })

  it('keeps a session alive while keepalives commit', async () => {
    const t = await testCluster()
    const session = sessionOf(await t.service('n1').execute({ type: 'open-session', ttlMs: 1000 }))
    for (let i = 0; i < 10; i++) {
      await t.clock.advance(500)
      await t.service('n1').execute({ type: 'keepalive', session })
    }
    expect(t.machine('n3').session(session)).toBeDefined()
    await t.stop()
  })

  it('never expires a session on a follower clock, however long there is no leader', async () => {
    const t = await testCluster()
    const session = sessionOf(await t.service('n1').execute({ type: 'open-session', ttlMs: 1000 }))
    t.cluster.loseLeader()
    await t.clock.advance(20_000)
    for (const id of ['n1', 'n2', 'n3']) expect(t.machine(id).session(session)).toBeDefined()
    await t.stop()
  })

  it('gives every session a fresh full TTL when a new leader takes over', async () => {
    const t = await testCluster()
    const session = sessionOf(await t.service('n1').execute({ type: 'open-session', ttlMs: 1000 }))
    await t.clock.advance(900)
    t.cluster.elect('n2')
    const electedAt = t.clock.now()
    // The old leader would have expired it at 1000; the new one cannot know when it was last renewed.
    await t.clock.advance(950)
    expect(t.machine('n1').session(session)).toBeDefined()
    await t.clock.advance(100)
    expect(t.machine('n1').session(session)).toBeUndefined()
    expect(t.clock.now() - electedAt).toBeGreaterThanOrEqual(1000)
    await t.stop()
  })

  it('re-checks the lease on the leader before a grant: an overdue session is expired, not granted', async () => {
    const t = await testCluster({ sweepIntervalMs: 1_000_000 })
    const session = sessionOf(await t.service('n1').execute({ type: 'open-session', ttlMs: 1000 }))
    await t.clock.advance(1500)
    expect(t.machine('n1').session(session)).toBeDefined()
    await expect(t.service('n1').execute({ type: 'acquire', session, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 }))
      .rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' })
    expect(t.machine('n2').session(session)).toBeUndefined()
    expect(t.machine('n2').lock('m')).toBeUndefined()
    await t.stop()
  })

  it('lifts a lock-delay after its time, restarting it in full on a new leader', async () => {
    const t = await testCluster()
    const s = t.service('n1')
    const holder = sessionOf(await s.execute({ type: 'open-session', ttlMs: 1000 }))
    const waiter = sessionOf(await s.execute({ type: 'open-session', ttlMs: 100_000 }))
    await s.execute({ type: 'acquire', session: holder, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 2000 })
    await s.execute({ type: 'acquire', session: waiter, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    await t.clock.until(() => t.machine('n1').session(holder) === undefined, 2000)
    expect(t.machine('n1').delayedLocks()).toHaveLength(1)
    await t.clock.advance(1500)
    t.cluster.elect('n3')
    await t.clock.advance(1900)
    expect(t.machine('n1').requestState(waiter, 1, 'm').state).toBe('queued')
    await t.clock.advance(200)
    expect(t.machine('n1').requestState(waiter, 1, 'm').state).toBe('held')
    await t.stop()
  })

  it('proposes nothing from a follower: its ERR_NOT_LEADER carries the leader hint', async () => {
    const t = await testCluster()
    await expect(t.service('n2').execute({ type: 'open-session', ttlMs: 1000 })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n1' })
    await t.stop()
  })
})

describe('lock service: waiting for a grant', () => {
  it('wakes a waiter on any replica, a lagging one once it has caught up', async () => {
    const t = await testCluster()
    const s = t.service('n1')
    const a = sessionOf(await s.execute({ type: 'open-session', ttlMs: 100_000 }))
    const b = sessionOf(await s.execute({ type: 'open-session', ttlMs: 100_000 }))
    await s.execute({ type: 'acquire', session: a, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    t.cluster.isolate('n3')
    const queued = await s.execute({ type: 'acquire', session: b, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    expect(queued.result).toEqual({ type: 'queued', position: 1 })
    const onFollower = t.service('n2').awaitGrant({ session: b, request: 1, name: 'm', afterIndex: queued.index })
    let lagging: { token: number } | undefined
    void t.service('n3').awaitGrant({ session: b, request: 1, name: 'm', afterIndex: queued.index }).then((grant) => { lagging = grant })
    const released = await s.execute({ type: 'release', session: a, request: 1, name: 'm' })
    expect(await onFollower).toEqual({ token: released.index })
    await t.clock.advance(10)
    expect(lagging).toBeUndefined()
    t.cluster.heal('n3')
    await t.clock.advance(10)
    expect(lagging).toEqual({ token: released.index })
    await t.stop()
  })

  it('rejects a wait when the session ends, when the request is withdrawn, and on abort', async () => {
    const t = await testCluster()
    const s = t.service('n1')
    const a = sessionOf(await s.execute({ type: 'open-session', ttlMs: 100_000 }))
    const b = sessionOf(await s.execute({ type: 'open-session', ttlMs: 1000 }))
    await s.execute({ type: 'acquire', session: a, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    const q1 = await s.execute({ type: 'acquire', session: b, request: 1, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    const q2 = await s.execute({ type: 'acquire', session: b, request: 2, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    const q3 = await s.execute({ type: 'acquire', session: a, request: 2, name: 'm', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })

    const controller = new AbortController()
    const aborted = t.service('n2').awaitGrant({ session: a, request: 2, name: 'm', afterIndex: q3.index }, { signal: controller.signal })
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ code: AbortError.code })

    const withdrawn = t.service('n2').awaitGrant({ session: b, request: 2, name: 'm', afterIndex: q2.index })
    await s.execute({ type: 'release', session: b, request: 2, name: 'm' })
    await expect(withdrawn).rejects.toMatchObject({ code: 'ERR_NOT_HELD' })

    const expired = expect(t.service('n3').awaitGrant({ session: b, request: 1, name: 'm', afterIndex: q1.index }))
      .rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' })
    await t.clock.advance(1100)
    await expired
    await t.stop()
  })
})
