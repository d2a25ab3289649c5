import type { Endpoint } from './types.js'

/**
 * Everything the balancer tracks about one endpoint. Mutable and internal: policies read it on the
 * hot path, so it is a plain object with fixed fields rather than a map of counters.
 */
export class EndpointState implements Endpoint {
  readonly id: string
  readonly address: string | undefined
  readonly weight: number

  /** Picked and not yet completed. */
  inFlight = 0
  /** Set once the endpoint is removed: late completions still balance `inFlight` but change nothing else. */
  removed = false

  /** Peak-EWMA latency estimate (ms) and the clock time it was last updated. */
  latencyEstimateMs = 0
  latencyStampMs = 0

  /** Outlier detection: failures in a row, and per-interval counts for success-rate analysis. */
  consecutiveFailures = 0
  intervalSuccesses = 0
  intervalFailures = 0
  ejected = false
  ejectedUntil = 0
  ejectionCount = 0

  /** Active health checks: current verdict and the run of results that may flip it. */
  healthy = true
  probeSuccessesInRow = 0
  probeFailuresInRow = 0

  /** Slow start window [slowStartFrom, slowStartUntil); outside it the factor is 1. */
  slowStartFrom = 0
  slowStartUntil = 0

  /** Lifetime counters for snapshots. */
  completed = 0
  failures = 0

  /** Smooth weighted round robin's running weight (nginx `current_weight`). */
  currentWeight = 0

  constructor (id: string, address: string | undefined, weight: number) {
    this.id = id
    this.address = address
    this.weight = weight
  }

  get available (): boolean {
    return !this.ejected && this.healthy
  }
}
