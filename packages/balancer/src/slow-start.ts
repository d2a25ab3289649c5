import type { EndpointState } from './endpoint-state.js'

/** Slow start: a new or recovered endpoint receives a growing share of traffic (Envoy `slow_start_config`). */
export interface SlowStartOptions {
  /**
   * How long the ramp lasts. 0 disables slow start.
   * @default 30000
   */
  windowMs?: number
  /**
   * Shape of the ramp: the factor is `(elapsed / window) ^ (1 / aggression)`. 1 is linear; larger
   * values ramp faster at first.
   * @default 1
   */
  aggression?: number
  /**
   * The factor never drops below this share of full weight, so a warming endpoint still gets some traffic.
   * @default 0.1
   */
  minWeightShare?: number
}

/** Slow start with defaults filled in. */
export interface SlowStartConfig {
  windowMs: number
  aggression: number
  minWeightShare: number
}

export function resolveSlowStart (options: SlowStartOptions | false | undefined): SlowStartConfig {
  if (options === false) return { windowMs: 0, aggression: 1, minWeightShare: 1 }
  return {
    windowMs: options?.windowMs ?? 30_000,
    aggression: options?.aggression ?? 1,
    minWeightShare: options?.minWeightShare ?? 0.1
  }
}

/** Starts the ramp for `state` at `now`. */
export function beginSlowStart (state: EndpointState, config: SlowStartConfig, now: number): void {
  if (config.windowMs <= 0) return
  state.slowStartFrom = now
  state.slowStartUntil = now + config.windowMs
}

/** The weight multiplier of `state` at `now`, in [minWeightShare, 1]. */
export function slowStartFactor (state: EndpointState, config: SlowStartConfig, now: number): number {
  if (now >= state.slowStartUntil) return 1
  const progress = (now - state.slowStartFrom) / config.windowMs
  const ramp = progress <= 0 ? 0 : Math.pow(progress, 1 / config.aggression)
  return Math.max(config.minWeightShare, ramp)
}
