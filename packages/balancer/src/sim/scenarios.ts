import type { SimScenario } from './simulator.js'

/**
 * Scenario A: one slow backend among fast ones. Ten single-worker FIFO backends, one with mean
 * service 50 ms and nine with 10 ms: capacity 20 + 9 × 100 = 920 req/s, offered 70% of it
 * (644 req/s) for 120 s. Round robin sends the slow backend 64 req/s, three times what it can
 * serve, so its queue grows without bound.
 */
export function slowBackendScenario (seed = 1): SimScenario {
  const capacity = 1000 / 50 + 9 * (1000 / 10)
  return {
    name: 'A: one slow backend',
    seed,
    arrivalsPerSecond: 0.7 * capacity,
    durationMs: 120_000,
    backends: [
      { id: 'slow', meanServiceMs: 50 },
      ...Array.from({ length: 9 }, (_, i) => ({ id: `fast-${i + 1}`, meanServiceMs: 10 }))
    ]
  }
}

/**
 * Scenario B: backends that start returning errors. Ten 10 ms backends at 50% load for 120 s.
 * `bad` fails every request (fast) from 10 s to 50 s; `flaky-1` and `flaky-2` fail together from 30 s
 * to 40 s, while `bad` is still failing, so a cap of two ejections binds.
 */
export function failingBackendScenario (seed = 1): SimScenario {
  return {
    name: 'B: failing backends',
    seed,
    arrivalsPerSecond: 500,
    durationMs: 120_000,
    backends: [
      { id: 'bad', meanServiceMs: 10, errorPeriods: [{ fromMs: 10_000, toMs: 50_000 }] },
      { id: 'flaky-1', meanServiceMs: 10, errorPeriods: [{ fromMs: 30_000, toMs: 40_000 }] },
      { id: 'flaky-2', meanServiceMs: 10, errorPeriods: [{ fromMs: 30_000, toMs: 40_000 }] },
      ...Array.from({ length: 7 }, (_, i) => ({ id: `ok-${i + 1}`, meanServiceMs: 10 }))
    ]
  }
}

/**
 * Scenario C: a transiently slow backend. Ten 10 ms backends at 60% load; `gc` serves ten times
 * slower from 20 s to 30 s (a long pause, a noisy neighbour), then recovers.
 */
export function transientSlownessScenario (seed = 1): SimScenario {
  return {
    name: 'C: transiently slow backend',
    seed,
    arrivalsPerSecond: 600,
    durationMs: 60_000,
    backends: [
      { id: 'gc', meanServiceMs: 10, slowPeriods: [{ fromMs: 20_000, toMs: 30_000, factor: 10 }] },
      ...Array.from({ length: 9 }, (_, i) => ({ id: `steady-${i + 1}`, meanServiceMs: 10 }))
    ]
  }
}
