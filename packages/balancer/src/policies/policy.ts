import type { Random } from '@synod/interfaces'
import type { EndpointState } from '../endpoint-state.js'
import { slowStartFactor, type SlowStartConfig } from '../slow-start.js'
import type { PolicyName } from '../types.js'

/**
 * What a policy sees of the current pick. One instance per balancer, refreshed before each pick,
 * so the hot path allocates nothing.
 */
export class SelectionContext {
  readonly random: Random
  readonly slowStart: SlowStartConfig
  /** Affinity key of this pick (consistent hash only). */
  key: string | undefined = undefined
  /** Clock time of this pick; valid when `warming` is true or the policy declared `usesClock`. */
  now = 0
  /** True when at least one candidate is inside its slow-start window. */
  warming = false

  constructor (random: Random, slowStart: SlowStartConfig) {
    this.random = random
    this.slowStart = slowStart
  }

  /** Configured weight times the slow-start multiplier (for weighted round robin, which ramps by weight). */
  weightOf (state: EndpointState): number {
    return this.warming ? state.weight * slowStartFactor(state, this.slowStart, this.now) : state.weight
  }

  /**
   * Slow start for every policy but weighted round robin: a candidate is considered only with
   * probability equal to its slow-start factor, so a warming endpoint sees proportionally fewer
   * picks. (Dividing a least-request score by the factor instead would be all or nothing: an idle
   * endpoint at 10% weight would lose every comparison until the window ends.)
   */
  admits (state: EndpointState): boolean {
    if (!this.warming) return true
    const factor = slowStartFactor(state, this.slowStart, this.now)
    return factor >= 1 || this.random.next() < factor
  }
}

/** A selection rule. `candidates` is never empty and only changes identity when the set changes. */
export interface Policy {
  readonly name: PolicyName
  /** True if the policy needs the clock at pick and completion time (latency-aware policies). */
  readonly usesClock: boolean
  select(candidates: readonly EndpointState[], context: SelectionContext): EndpointState
  /** Called with the completed request's latency (successes and failures, not cancellations). */
  observe?(state: EndpointState, latencyMs: number, now: number, failed: boolean): void
  /** Called when an endpoint comes back after ejection or failed health checks: forget stale history. */
  reset?(state: EndpointState, now: number): void
  /** Called after endpoints are added or removed. */
  membershipChanged?(all: readonly EndpointState[]): void
  /** Called with the new candidate array whenever it is rebuilt (availability or membership changed). */
  candidatesChanged?(candidates: readonly EndpointState[]): void
  /** Called once for every completed pick, cancelled or not, even after the endpoint was removed. */
  released?(state: EndpointState): void
}
