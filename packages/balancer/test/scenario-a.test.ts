import { describe, expect, it } from 'vitest'
import { createBalancer, runSimulation, slowBackendScenario, type PolicyName, type SimResult } from '../src/index.js'

// Scenario A of the design issue, reproduced exactly: ten FIFO single-worker backends, one with a
// 50 ms mean service time and nine with 10 ms, 70% of total capacity (644 req/s), 120 s simulated.
// The simulation is deterministic for a seed, so these are assertions on behaviour, not on timing.
const results = new Map<PolicyName, SimResult>()
function run (policy: PolicyName): SimResult {
  let result = results.get(policy)
  if (result === undefined) {
    result = runSimulation(slowBackendScenario(1), (endpoints, components) => createBalancer({ policy, endpoints }, components))
    results.set(policy, result)
  }
  return result
}
const slowShare = (result: SimResult): number => result.backends.find((backend) => backend.id === 'slow')?.share ?? Number.NaN

describe('scenario A: one slow backend', () => {
  it('offers 70% of capacity for 120 s', () => {
    const scenario = slowBackendScenario(1)
    expect(scenario.arrivalsPerSecond).toBeCloseTo(644, 6)
    expect(scenario.backends.map((backend) => backend.meanServiceMs).sort((a, b) => a - b)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 50])
    const result = run('round-robin')
    // Poisson arrivals: 644 × 120 ≈ 77 280 requests, within a few standard deviations.
    expect(result.requests).toBeGreaterThan(76_500)
    expect(result.requests).toBeLessThan(78_000)
  })

  it('round robin lets the slow backend queue grow without bound', () => {
    const result = run('round-robin')
    expect(slowShare(result)).toBeCloseTo(0.1, 3)
    // The slow backend receives 64 req/s and serves 20: thousands queued by the end, p99 in minutes.
    expect(result.maxQueue).toBeGreaterThan(4000)
    expect(result.latency.p99).toBeGreaterThan(100_000)
  })

  it('P2C peak-EWMA sends at most 3.3% of traffic to the slow backend', () => {
    expect(slowShare(run('p2c-peak-ewma'))).toBeLessThanOrEqual(0.033)
  })

  it('P2C peak-EWMA keeps every queue at most 10 deep', () => {
    expect(run('p2c-peak-ewma').maxQueue).toBeLessThanOrEqual(10)
  })

  it('P2C peak-EWMA p99 is at most twice the full-scan least-request p99', () => {
    expect(run('p2c-peak-ewma').latency.p99).toBeLessThanOrEqual(2 * run('least-request').latency.p99)
  })

  it('P2C peak-EWMA p99.9 beats P2C least-request', () => {
    expect(run('p2c-peak-ewma').latency.p999).toBeLessThan(run('p2c-least-request').latency.p999)
  })

  it('load-aware policies all beat round robin by orders of magnitude', () => {
    for (const policy of ['least-request', 'p2c-least-request', 'p2c-peak-ewma'] as const) {
      expect(run(policy).latency.p99).toBeLessThan(run('round-robin').latency.p99 / 100)
    }
  })

  it('replays exactly for the same seed', () => {
    const again = runSimulation(slowBackendScenario(1), (endpoints, components) => createBalancer({ policy: 'p2c-peak-ewma', endpoints }, components))
    expect(again).toEqual(run('p2c-peak-ewma'))
  })
})
