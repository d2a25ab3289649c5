/** A fixed-size window of recent samples with percentile queries (for proposal latency). */
export class LatencyWindow {
  readonly #samples: Float64Array
  #count = 0
  #next = 0

  constructor (size = 4096) {
    this.#samples = new Float64Array(size)
  }

  record (value: number): void {
    this.#samples[this.#next] = value
    this.#next = (this.#next + 1) % this.#samples.length
    if (this.#count < this.#samples.length) this.#count++
  }

  percentile (p: number): number | undefined {
    if (this.#count === 0) return undefined
    const sorted = Array.from(this.#samples.subarray(0, this.#count)).sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
  }
}

/** Deadlines grouped by tick, so thousands of pending operations cost no timer each. */
export class DeadlineWheel<T> {
  readonly #buckets = new Map<number, Set<T>>()

  add (bucket: number, item: T): void {
    let set = this.#buckets.get(bucket)
    if (set === undefined) {
      set = new Set()
      this.#buckets.set(bucket, set)
    }
    set.add(item)
  }

  delete (bucket: number, item: T): void {
    this.#buckets.get(bucket)?.delete(item)
  }

  /** Removes and returns every item whose bucket is at or before `now`. */
  expire (now: number): T[] {
    const out: T[] = []
    for (const [bucket, set] of this.#buckets) {
      if (bucket > now) continue
      for (const item of set) out.push(item)
      this.#buckets.delete(bucket)
    }
    return out
  }
}
