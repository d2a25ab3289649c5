import type { Clock } from '@synod/interfaces'

/**
 * Caps retries at a share of recent requests (Finagle `RetryBudget`, Envoy `retry_budget`), so that
 * when a backend struggles, retries cannot multiply the load on it: a retry storm turns a partial
 * outage into a full one.
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per original request, on average over `windowMs`.
   * @default 0.2
   */
  retryRatio?: number
  /**
   * Retries per second always allowed, so a client with little traffic can still retry.
   * @default 10
   */
  minRetriesPerSecond?: number
  /**
   * How far back requests and retries are counted.
   * @default 10000
   */
  windowMs?: number
}

/** A retry budget. Every original request is deposited; every retry must be withdrawn first. */
export interface RetryBudget {
  /** Records an original (non-retry) request. */
  deposit(): void
  /** Takes permission for one retry; false when the budget is spent. */
  tryWithdraw(): boolean
  /** Retries currently allowed. */
  balance(): number
}

const BUCKETS = 10

/** Creates a retry budget counting over a sliding window of ten buckets on `clock`. */
export function createRetryBudget (options: RetryBudgetOptions = {}, components: { clock: Clock }): RetryBudget {
  const retryRatio = options.retryRatio ?? 0.2
  const minRetriesPerSecond = options.minRetriesPerSecond ?? 10
  const windowMs = options.windowMs ?? 10_000
  const bucketMs = windowMs / BUCKETS
  const reserve = minRetriesPerSecond * windowMs / 1000
  const deposits = new Float64Array(BUCKETS)
  const withdrawals = new Float64Array(BUCKETS)
  let currentBucket = Math.floor(components.clock.now() / bucketMs)
  let depositSum = 0
  let withdrawalSum = 0

  // Moves the window forward, forgetting buckets older than `windowMs`.
  const advance = (): number => {
    const bucket = Math.floor(components.clock.now() / bucketMs)
    const stale = Math.min(bucket - currentBucket, BUCKETS)
    for (let k = 1; k <= stale; k++) {
      const slot = (((currentBucket + k) % BUCKETS) + BUCKETS) % BUCKETS
      depositSum -= deposits[slot]!
      withdrawalSum -= withdrawals[slot]!
      deposits[slot] = 0
      withdrawals[slot] = 0
    }
    if (bucket > currentBucket) currentBucket = bucket
    return ((currentBucket % BUCKETS) + BUCKETS) % BUCKETS
  }

  const balance = (): number => Math.floor(reserve + depositSum * retryRatio - withdrawalSum)

  return {
    deposit (): void {
      deposits[advance()]! += 1
      depositSum += 1
    },
    tryWithdraw (): boolean {
      const slot = advance()
      if (balance() < 1) return false
      withdrawals[slot]! += 1
      withdrawalSum += 1
      return true
    },
    balance (): number {
      advance()
      return Math.max(0, balance())
    }
  }
}
