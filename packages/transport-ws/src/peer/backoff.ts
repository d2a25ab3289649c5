import type { Random } from '@synod/interfaces'

/** Reconnect delays: exponential growth capped at a maximum, with multiplicative jitter. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. @default 50 */
  initialMs?: number
  /** Upper bound of the delay, in ms. @default 5000 */
  maxMs?: number
  /** Growth factor per failed attempt. @default 2 */
  multiplier?: number
  /**
   * Fraction of the delay that is randomised, so peers that lost a link at the same moment do not
   * redial in lockstep: the delay is drawn from `[d * (1 - jitter), d]`. @default 0.5
   */
  jitter?: number
}

export type ResolvedBackoff = Required<BackoffOptions>

export function resolveBackoff (options: BackoffOptions | undefined): ResolvedBackoff {
  return {
    initialMs: options?.initialMs ?? 50,
    maxMs: options?.maxMs ?? 5000,
    multiplier: options?.multiplier ?? 2,
    jitter: Math.min(1, Math.max(0, options?.jitter ?? 0.5))
  }
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay (options: ResolvedBackoff, attempt: number, random: Random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.multiplier ** Math.min(attempt, 64))
  return base * (1 - options.jitter * random.next())
}
