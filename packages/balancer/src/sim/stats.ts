/** The `q` quantile (0..1) of `sorted`, nearest-rank method. NaN for an empty sample. */
export function quantile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  mean: number
  p50: number
  p99: number
  p999: number
  max: number
}

export function summarize (samples: Float64Array): LatencySummary {
  const sorted = samples.slice().sort()
  let sum = 0
  for (const value of sorted) sum += value
  return {
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!
  }
}
