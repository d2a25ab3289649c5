import { describe, expect, it } from 'vitest'
import {
  createBalancer, failingBackendScenario, runSimulation,
  type Balancer, type BalancerEvents, type PolicyName, type SimResult
} from '../src/index.js'

// Scenario B: `bad` fails every request from 10 s to 50 s; `flaky-1` and `flaky-2` fail from 30 s to
// 40 s. Five consecutive failures eject; at most floor(10 × 0.2) = 2 endpoints are ejected at once.
const MAX_EJECTED = 2

interface Trace {
  result: SimResult
  /** Every ejection/restoration with the simulated time and the endpoint's lifetime failures then. */
  events: Array<{ at: number, type: keyof BalancerEvents, id: string, failures: number }>
  /** Most endpoints ejected at once. */
  maxEjected: number
  /** Slow-start factor of `bad` sampled every 25th pick, with the time. */
  badFactor: Array<{ at: number, factor: number }>
}

function trace (policy: PolicyName): Trace {
  const events: Trace['events'] = []
  const badFactor: Trace['badFactor'] = []
  let maxEjected = 0
  let picks = 0
  const result = runSimulation(failingBackendScenario(1), (endpoints, components) => {
    const balancer = createBalancer({
      policy,
      endpoints,
      outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 15_000, maxEjectedShare: 0.2 },
      slowStart: { windowMs: 30_000 }
    }, components)
    for (const type of ['endpoint:ejected', 'endpoint:restored'] as const) {
      balancer.addEventListener(type, (event) => {
        const snapshot = balancer.endpoints()
        // The ejected count only grows at an ejection, so checking right after each one finds its maximum.
        maxEjected = Math.max(maxEjected, snapshot.filter((endpoint) => endpoint.ejected).length)
        const failures = snapshot.find((endpoint) => endpoint.id === event.detail.id)?.failures ?? -1
        events.push({ at: components.clock.now(), type, id: event.detail.id, failures })
      })
    }
    return balancer
  }, {
    afterPick (balancer: Balancer, now: number) {
      if (++picks % 25 !== 0) return
      const bad = balancer.endpoints().find((endpoint) => endpoint.id === 'bad')
      if (bad !== undefined) badFactor.push({ at: now, factor: bad.slowStartFactor })
    }
  })
  return { result, events, maxEjected, badFactor }
}

describe.each(['p2c-peak-ewma', 'least-request'] as const)('scenario B: failing backends (%s)', (policy) => {
  const run = trace(policy)
  const badEvents = run.events.filter((event) => event.id === 'bad')

  it('ejects the failing backend within 5 consecutive failures', () => {
    const first = badEvents[0]
    expect(first?.type).toBe('endpoint:ejected')
    expect(first?.at).toBeGreaterThanOrEqual(10_000)
    // Its first failure is at 10 s; it had none before, so its failure count is its run of failures.
    expect(first?.failures).toBeLessThanOrEqual(5)
    expect(first?.failures).toBeGreaterThan(0)
  })

  it('doubles the ejection time when a restored backend fails again', () => {
    const ejections = badEvents.filter((event) => event.type === 'endpoint:ejected')
    const restorations = badEvents.filter((event) => event.type === 'endpoint:restored')
    expect(ejections.length).toBeGreaterThanOrEqual(2)
    // Restoration happens at the first pick after the ejection ends: within an arrival gap (2 ms mean).
    const firstOut = restorations[0]!.at - ejections[0]!.at
    const secondOut = restorations[1]!.at - ejections[1]!.at
    expect(firstOut).toBeGreaterThanOrEqual(15_000)
    expect(firstOut).toBeLessThan(15_050)
    expect(secondOut).toBeGreaterThanOrEqual(30_000)
    expect(secondOut).toBeLessThan(30_050)
    // Back after the failures stopped, it stays in: no further ejection.
    expect(badEvents.at(-1)?.type).toBe('endpoint:restored')
    expect(badEvents.at(-1)!.at).toBeGreaterThan(50_000)
  })

  it('brings the recovered backend back through slow start', () => {
    const back = badEvents.at(-1)!.at
    const ramp = run.badFactor.filter((sample) => sample.at >= back && sample.at < back + 30_000)
    expect(ramp[0]!.factor).toBeLessThan(0.2)
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]!.factor).toBeGreaterThanOrEqual(ramp[i - 1]!.factor)
    expect(run.badFactor.at(-1)!.factor).toBe(1)
    // Traffic follows the ramp: the first 5 s back get clearly less than the 5 s after the window.
    const timeline = run.result.backends.find((backend) => backend.id === 'bad')!.timeline
    const second = Math.ceil(back / 1000)
    const sum = (from: number, to: number): number => timeline.slice(from, to).reduce((a, b) => a + b, 0)
    expect(sum(second, second + 5)).toBeLessThan(0.5 * sum(second + 31, second + 36))
    expect(sum(second, second + 5)).toBeGreaterThan(0)
  })

  it('never ejects more than the configured share, even when more backends fail', () => {
    expect(run.maxEjected).toBeLessThanOrEqual(MAX_EJECTED)
    // The cap binds: during 30-40 s three backends fail but only two are out.
    expect(run.maxEjected).toBe(MAX_EJECTED)
    const flakyEjections = run.events.filter((event) => event.type === 'endpoint:ejected' && event.id.startsWith('flaky'))
    expect(flakyEjections.filter((event) => event.at < 40_000)).toHaveLength(1)
  })
})
