import type { EndpointState } from '../endpoint-state.js'
import { powerOfTwo } from './least-request.js'
import type { Policy, SelectionContext } from './policy.js'

/** Options of the P2C peak-EWMA policy. */
export interface PeakEwmaOptions {
  /**
   * Time constant of the moving average, in milliseconds: a sample's influence falls to 1/e after
   * this long. Finagle and Linkerd both use 10 s.
   * @default 10000
   */
  decayMs?: number
}

/**
 * Cost of an endpoint that has requests in flight but no latency sample yet. Finagle uses a huge
 * constant for the same purpose: an unmeasured endpoint gets one request at a time until it answers.
 */
const UNMEASURED_PENALTY_MS = 1e9

/**
 * `exp(-elapsed / decayMs)`. Between two picks of a busy endpoint the exponent is tiny, and a
 * third-order Taylor polynomial is exact to 1e-9 there and much cheaper than `Math.exp`.
 */
export function decayFactor (elapsed: number, decayMs: number): number {
  const x = elapsed / decayMs
  return x < 0.01 ? 1 - x * (1 - x * (0.5 - x / 6)) : Math.exp(-x)
}

/**
 * The latency estimate at `now`, decayed toward zero since the last sample. The decay is what lets
 * an endpoint that was once slow, and therefore stopped receiving traffic, be tried again.
 */
export function decayedLatency (state: EndpointState, now: number, decayMs: number): number {
  const elapsed = now - state.latencyStampMs
  return elapsed > 0 ? state.latencyEstimateMs * decayFactor(elapsed, decayMs) : state.latencyEstimateMs
}

/**
 * Power of two choices on peak-EWMA latency times outstanding requests (Finagle `PeakEwma`,
 * Linkerd's balancer). The estimate jumps straight up to any slower sample and drifts back down with
 * time constant `decayMs`, so one slow response steers traffic away at once and a recovered endpoint
 * wins it back gradually. Cost is `estimate × (inFlight + 1) / weight`.
 */
export function p2cPeakEwma (options: PeakEwmaOptions = {}): Policy {
  return new PeakEwmaPolicy(options.decayMs ?? 10_000)
}

// A class rather than closures: the hot fields live on the object, which V8 reads faster than
// captured variables.
class PeakEwmaPolicy implements Policy {
  readonly name = 'p2c-peak-ewma'
  readonly usesClock = true
  readonly #decayMs: number
  #now = 0
  readonly #cost = (state: EndpointState): number => {
    const latency = decayedLatency(state, this.#now, this.#decayMs)
    const load = latency === 0 && state.inFlight > 0
      ? UNMEASURED_PENALTY_MS + state.inFlight
      : latency * (state.inFlight + 1)
    return load / state.weight
  }

  constructor (decayMs: number) {
    this.#decayMs = decayMs
  }

  select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
    this.#now = context.now
    return powerOfTwo(candidates, context, this.#cost)
  }

  observe (state: EndpointState, latencyMs: number, now: number, failed: boolean): void {
    if (failed) {
      // A fast error says nothing about how fast the endpoint does real work. Letting it pull the
      // estimate down would make a failing endpoint the cheapest one and draw traffic to it.
      if (latencyMs > state.latencyEstimateMs) state.latencyEstimateMs = latencyMs
    } else if (latencyMs > state.latencyEstimateMs) {
      state.latencyEstimateMs = latencyMs
    } else {
      const keep = decayFactor(Math.max(0, now - state.latencyStampMs), this.#decayMs)
      state.latencyEstimateMs = state.latencyEstimateMs * keep + latencyMs * (1 - keep)
    }
    state.latencyStampMs = now
  }

  reset (state: EndpointState, now: number): void {
    state.latencyEstimateMs = 0
    state.latencyStampMs = now
  }
}
