import type { EndpointState } from '../endpoint-state.js'
import type { EjectionReason } from '../types.js'

/**
 * Passive outlier detection, after Envoy's: ejects an endpoint from the rotation when it fails
 * `consecutiveFailures` times in a row, or when its success rate over an interval falls well below
 * its peers'. Ejection lasts `baseEjectionMs × 2^(ejections - 1)`, capped at `maxEjectionMs`.
 */
export interface OutlierDetectionOptions {
  /**
   * Failures in a row that eject an endpoint at once. 0 disables this detector.
   * @default 5
   */
  consecutiveFailures?: number
  /**
   * How often the success-rate detector runs and ejection counts decay (needs `start()`).
   * @default 10000
   */
  intervalMs?: number
  /**
   * First ejection time; each further ejection doubles it.
   * @default 30000
   */
  baseEjectionMs?: number
  /**
   * Longest ejection.
   * @default 300000
   */
  maxEjectionMs?: number
  /**
   * Largest share of endpoints ejected at the same time: `floor(endpoints × share)`. Never exceeded,
   * so with the default a set of 3 endpoints can lose 1 and a set of 10 can lose 5. (Envoy defaults to
   * 10%, sized for large fleets; Synod clusters are often 3 to 7 nodes.)
   * @default 0.5
   */
  maxEjectedShare?: number
  /**
   * Success-rate detection, or false to disable it.
   * @default { requestVolume: 100, minimumHosts: 5, stdevFactor: 1.9 }
   */
  successRate?: SuccessRateOptions | false
}

/** Statistical success-rate ejection (Envoy `success_rate_*`). */
export interface SuccessRateOptions {
  /**
   * Endpoints with fewer requests than this in an interval are not judged.
   * @default 100
   */
  requestVolume?: number
  /**
   * Fewer judged endpoints than this and nobody is ejected: the statistics would mean little.
   * @default 5
   */
  minimumHosts?: number
  /**
   * Ejects endpoints whose success rate is below `mean − stdevFactor × stdev` of the judged endpoints.
   * @default 1.9
   */
  stdevFactor?: number
}

export interface OutlierConfig {
  consecutiveFailures: number
  intervalMs: number
  baseEjectionMs: number
  maxEjectionMs: number
  maxEjectedShare: number
  successRate: { requestVolume: number, minimumHosts: number, stdevFactor: number } | undefined
}

export function resolveOutlierDetection (options: OutlierDetectionOptions | false | undefined): OutlierConfig | undefined {
  if (options === false) return undefined
  const successRate = options?.successRate
  return {
    consecutiveFailures: options?.consecutiveFailures ?? 5,
    intervalMs: options?.intervalMs ?? 10_000,
    baseEjectionMs: options?.baseEjectionMs ?? 30_000,
    maxEjectionMs: options?.maxEjectionMs ?? 300_000,
    maxEjectedShare: options?.maxEjectedShare ?? 0.5,
    successRate: successRate === false
      ? undefined
      : {
          requestVolume: successRate?.requestVolume ?? 100,
          minimumHosts: successRate?.minimumHosts ?? 5,
          stdevFactor: successRate?.stdevFactor ?? 1.9
        }
  }
}

/** How long the next ejection of `state` lasts. */
export function ejectionDuration (state: EndpointState, config: OutlierConfig): number {
  const doublings = Math.min(state.ejectionCount, 30)
  return Math.min(config.baseEjectionMs * 2 ** doublings, config.maxEjectionMs)
}

/** True when one more ejection keeps the ejected share within `maxEjectedShare`. */
export function mayEject (ejectedNow: number, endpointCount: number, config: OutlierConfig): boolean {
  return ejectedNow + 1 <= Math.floor(endpointCount * config.maxEjectedShare)
}

/**
 * The success-rate detector's verdict for one interval: the endpoints to eject, worst first.
 * Pure, so it can be tested on its own.
 */
export function successRateOutliers (states: readonly EndpointState[], config: OutlierConfig): Array<{ state: EndpointState, reason: EjectionReason }> {
  const rules = config.successRate
  if (rules === undefined) return []
  const judged: Array<{ state: EndpointState, rate: number }> = []
  for (const state of states) {
    const volume = state.intervalSuccesses + state.intervalFailures
    if (state.ejected || volume < rules.requestVolume) continue
    judged.push({ state, rate: state.intervalSuccesses / volume })
  }
  if (judged.length < rules.minimumHosts) return []
  const mean = judged.reduce((sum, entry) => sum + entry.rate, 0) / judged.length
  const variance = judged.reduce((sum, entry) => sum + (entry.rate - mean) ** 2, 0) / judged.length
  const threshold = mean - rules.stdevFactor * Math.sqrt(variance)
  return judged
    .filter((entry) => entry.rate < threshold)
    .sort((a, b) => a.rate - b.rate)
    .map((entry) => ({ state: entry.state, reason: 'success-rate' as const }))
}
