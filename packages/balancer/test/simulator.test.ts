import { describe, expect, it } from 'vitest'
import { createBalancer, runSimulation, transientSlownessScenario, type SimScenario } from '../src/index.js'

const roundRobin = (scenario: SimScenario) => runSimulation(scenario, (endpoints, components) => createBalancer({ policy: 'round-robin', endpoints, outlierDetection: false }, components))

describe('simulator', () => {
  it('an M/M/1 backend at 50% load has a mean latency near 1 / (mu - lambda)', () => {
    // One backend, service mean 10 ms (mu = 100/s), arrivals 50/s: mean sojourn 1 / 50 s = 20 ms.
    const result = roundRobin({ name: 'mm1', seed: 3, arrivalsPerSecond: 50, durationMs: 600_000, backends: [{ id: 'only', meanServiceMs: 10 }] })
    expect(result.latency.mean).toBeGreaterThan(18)
    expect(result.latency.mean).toBeLessThan(22)
    expect(result.requests).toBeGreaterThan(29_000)
    expect(result.requests).toBeLessThan(31_000)
  })

  it('error periods fail exactly the requests served inside them', () => {
    const result = roundRobin({
      name: 'errors', seed: 5, arrivalsPerSecond: 100, durationMs: 20_000,
      backends: [{ id: 'a', meanServiceMs: 1, errorPeriods: [{ fromMs: 5_000, toMs: 10_000 }] }, { id: 'b', meanServiceMs: 1 }]
    })
    const a = result.backends.find((backend) => backend.id === 'a')!
    const b = result.backends.find((backend) => backend.id === 'b')!
    expect(b.failures).toBe(0)
    // Round robin sends `a` half the requests; a quarter of the run is failing: about 250 failures.
    expect(a.failures).toBeGreaterThan(200)
    expect(a.failures).toBeLessThan(300)
    expect(result.failures).toBe(a.failures)
    expect(result.successRate).toBeCloseTo(1 - a.failures / result.requests, 10)
  })

  it('a transiently slow backend piles up a queue under round robin, then drains it', () => {
    const result = roundRobin(transientSlownessScenario(1))
    const gc = result.backends.find((backend) => backend.id === 'gc')!
    const steady = result.backends.filter((backend) => backend.id !== 'gc')
    expect(gc.maxQueue).toBeGreaterThan(100)
    for (const backend of steady) expect(backend.maxQueue).toBeLessThan(30)
    // Timeline: per-second counts add up to each backend's requests.
    for (const backend of result.backends) expect(backend.timeline.reduce((a, b) => a + b, 0)).toBe(backend.requests)
  })

  it('keys do not change the workload other policies see', () => {
    const base = { ...transientSlownessScenario(2), durationMs: 25_000 }
    expect(roundRobin({ ...base, keySpace: 100 })).toEqual(roundRobin(base))
  })
})
