import { describe, expect, it } from 'vitest'
import { isSynodError } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import type { NodeId } from '@synod/interfaces'
import { createFencedResource } from '../src/index.js'
import type { Lock } from '../src/index.js'
import { testCluster } from './helpers/setup.js'
import { JumpingClock, PausableClock, VirtualClock } from './helpers/virtual-clock.js'

const nodes: NodeId[] = ['n1', 'n2', 'n3']
const seeds = Number(process.env.LOCK_WORKLOAD_SEEDS ?? 60)
/** Set LOCK_WORKLOAD_SEED to replay one seed. */
const onlySeed = process.env.LOCK_WORKLOAD_SEED === undefined ? undefined : Number(process.env.LOCK_WORKLOAD_SEED)
const runMs = 3000
const expectedFailures = new Set(['ERR_SESSION_EXPIRED', 'ERR_LOCK_TIMEOUT', 'ERR_NOT_HELD'])

interface Outcome {
  accepted: number
  staleRejected: number
  sessionsLost: number
}

/**
 * One seeded run: three clients increment a fenced counter under one lock (read, think, write)
 * while a nemesis changes leaders, cuts replicas off, restarts them from snapshots, jumps clocks
 * forward and pauses clients for longer than the TTL.
 */
async function run (seed: number): Promise<Outcome> {
  const random = createRandom(seed)
  const clock = new VirtualClock()
  // Odd seeds jump clocks forward; even seeds keep clocks honest so the lease itself can be checked.
  const jumps = seed % 2 === 1
  const nodeClocks = Object.fromEntries(nodes.map((id) => [id, new JumpingClock(clock)]))
  const t = await testCluster({ clock, nodeClocks, commitDelayMs: random.chance(0.5) ? 0 : 2, sweepIntervalMs: 50 })
  const counter = createFencedResource(0)
  const outcome: Outcome = { accepted: 0, staleRejected: 0, sessionsLost: 0 }
  let lastWriter: Lock | undefined
  const wait = async (ms: number): Promise<void> => { await new Promise<void>((resolve) => { clock.setTimeout(resolve, ms) }) }

  const clientClocks = [0, 1, 2].map(() => new PausableClock(clock))
  const believers = new Map<number, Lock>()
  const clients = clientClocks.map((clientClock) => {
    const client = t.client({ ttlMs: 1000, lockDelayMs: random.chance(0.5) ? 0 : 200 }, clientClock)
    client.addEventListener('session-lost', () => { outcome.sessionsLost++ })
    return client
  })
  const checkLease = (): void => {
    if (jumps) return
    // With honest clocks the lease alone already excludes: at most one running client believes it holds the lock.
    const running = [...believers.entries()].filter(([i, lock]) => lock.held && !(clientClocks[i] as PausableClock).paused)
    expect(running.length).toBeLessThanOrEqual(1)
  }

  const worker = async (i: number): Promise<void> => {
    const client = clients[i] as (typeof clients)[number]
    const clientClock = clientClocks[i] as PausableClock
    while (clock.now() < runMs) {
      try {
        await client.withLock('counter', async (signal, lock) => {
          if (signal.aborted) return
          believers.set(i, lock)
          checkLease()
          let seen: number
          try {
            seen = counter.read(lock.token)
          } catch (err) {
            if (!isSynodError(err, 'ERR_NOT_HELD')) throw err
            outcome.staleRejected++
            believers.delete(i)
            return
          }
          if (random.chance(0.15)) {
            // A stop-the-world pause longer than the TTL, between reading and writing.
            clientClock.pause()
            await wait(random.floatBetween(1200, 2700))
            clientClock.resume()
          } else {
            await wait(random.floatBetween(0, 40))
          }
          checkLease()
          try {
            counter.update(lock.token, () => seen + 1)
            if (lastWriter !== undefined && lastWriter !== lock) expect(lock.token).toBeGreaterThan(lastWriter.token)
            lastWriter = lock
            outcome.accepted++
          } catch (err) {
            if (!isSynodError(err, 'ERR_NOT_HELD')) throw err
            outcome.staleRejected++
          } finally {
            believers.delete(i)
          }
        }, { timeoutMs: 1500 })
      } catch (err) {
        if (!isSynodError(err) || !expectedFailures.has(err.code)) throw err
      }
      await wait(random.floatBetween(0, 60))
    }
  }

  const nemesis = async (): Promise<void> => {
    while (clock.now() < runMs) {
      await wait(random.floatBetween(200, 600))
      checkLease()
      const action = random.next()
      if (action < 0.3) {
        const candidates = nodes.filter((id) => !isolated.has(id))
        t.cluster.elect(random.pick(candidates))
      } else if (action < 0.45 && isolated.size === 0) {
        const victim = random.pick(nodes)
        isolated.add(victim)
        t.cluster.isolate(victim)
      } else if (action < 0.6) {
        for (const id of isolated) t.cluster.heal(id)
        isolated.clear()
        if (t.cluster.leader === undefined) t.cluster.elect(random.pick(nodes))
      } else if (action < 0.7) {
        const victim = random.pick(nodes)
        await t.cluster.log(victim).snapshot()
        await t.restart(victim)
        if (t.cluster.leader === undefined) t.cluster.elect(random.pick(nodes.filter((id) => !isolated.has(id))))
      } else if (action < 0.8 && jumps) {
        (nodeClocks[random.pick(nodes)] as JumpingClock).jump(random.floatBetween(500, 3000))
      } else if (action < 0.85) {
        t.cluster.loseLeader()
      } else if (t.cluster.leader === undefined) {
        t.cluster.elect(random.pick(nodes.filter((id) => !isolated.has(id))))
      }
    }
    for (const id of isolated) t.cluster.heal(id)
    isolated.clear()
    t.cluster.elect('n1')
  }
  const isolated = new Set<NodeId>()

  let done = false
  const all = Promise.all([nemesis(), ...clients.map(async (_client, i) => { await worker(i) })]).finally(() => { done = true })
  all.catch(() => {})
  await clock.until(() => done, runMs + 30_000, 50)
  expect(done).toBe(true)
  await all

  // No lost update: every accepted write was a read-modify-write no one else interleaved with.
  expect(counter.peek()).toBe(outcome.accepted)
  // Every replica reached the same state.
  await clock.advance(100)
  for (const id of nodes.slice(1)) {
    expect(t.machine(id).sessions()).toEqual(t.machine('n1').sessions())
    expect(t.machine(id).locks()).toEqual(t.machine('n1').locks())
  }
  await t.stop()
  return outcome
}

describe('lock workload under faults (in-memory log, virtual time)', () => {
  it(`never loses an update and never accepts two holders' tokens, over ${seeds} seeds`, async () => {
    const totals: Outcome = { accepted: 0, staleRejected: 0, sessionsLost: 0 }
    for (let seed = onlySeed ?? 1; seed <= (onlySeed ?? seeds); seed++) {
      let outcome: Outcome
      try {
        outcome = await run(seed)
      } catch (err) {
        throw new Error(`seed ${seed} failed: ${(err as Error).message}\n${(err as Error).stack ?? ''}`, { cause: err })
      }
      expect(outcome.accepted).toBeGreaterThan(0)
      totals.accepted += outcome.accepted
      totals.staleRejected += outcome.staleRejected
      totals.sessionsLost += outcome.sessionsLost
    }
    // The faults really happened: stale holders were fenced off and sessions were lost.
    expect(totals.staleRejected).toBeGreaterThan(0)
    expect(totals.sessionsLost).toBeGreaterThan(0)
  }, Math.max(60_000, seeds * 500))
})
