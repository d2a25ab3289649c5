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

/**
 * Deadlines grouped by tick, so thousands of pending operations cost no timer each. A bucket is a
 * plain array: `delete` only counts the item as gone (the caller's `isLive` says which are), and
 * the array is compacted once more than half of it is dead, so a settled operation is released
 * soon without a hash-set insert and delete on every proposal.
 */
export class DeadlineWheel<T> {
  readonly #buckets = new Map<number, { items: T[], dead: number }>()
  readonly #isLive: (item: T) => boolean
  // Nearly every operation lands in the current tick's bucket: remember it, skipping the map.
  #lastBucket = Number.NaN
  #lastEntry: { items: T[], dead: number } | undefined

  constructor (isLive: (item: T) => boolean) {
    this.#isLive = isLive
  }

  #entry (bucket: number): { items: T[], dead: number } | undefined {
    if (bucket === this.#lastBucket) return this.#lastEntry
    const entry = this.#buckets.get(bucket)
    if (entry !== undefined) {
      this.#lastBucket = bucket
      this.#lastEntry = entry
    }
    return entry
  }

  #remove (bucket: number): void {
    this.#buckets.delete(bucket)
    if (bucket === this.#lastBucket) {
      this.#lastBucket = Number.NaN
      this.#lastEntry = undefined
    }
  }

  add (bucket: number, item: T): void {
    let entry = this.#entry(bucket)
    if (entry === undefined) {
      entry = { items: [], dead: 0 }
      this.#buckets.set(bucket, entry)
      this.#lastBucket = bucket
      this.#lastEntry = entry
    }
    entry.items.push(item)
  }

  /** Notes that `item` (already no longer live) left `bucket`. */
  delete (bucket: number, _item: T): void {
    const entry = this.#entry(bucket)
    if (entry === undefined) return
    entry.dead++
    if (entry.dead >= 64 && entry.dead * 2 > entry.items.length) {
      entry.items = entry.items.filter(this.#isLive)
      entry.dead = 0
      if (entry.items.length === 0) this.#remove(bucket)
    }
  }

  /** Removes and returns every live item whose bucket is at or before `now`. */
  expire (now: number): T[] {
    const out: T[] = []
    for (const [bucket, entry] of this.#buckets) {
      if (bucket > now) continue
      for (const item of entry.items) if (this.#isLive(item)) out.push(item)
      this.#remove(bucket)
    }
    return out
  }
}

/**
 * Operations waiting for a log index, kept in an array window starting at the lowest index still
 * tracked: a leader's indexes are dense and taken in order, so this replaces a hash map insert and
 * delete per proposal with two array stores.
 */
export class IndexWindow<T> {
  #slots: Array<T | undefined> = []
  #head = 0
  /** The index of `#slots[#head]`. */
  #base = 0
  #size = 0

  get size (): number { return this.#size }

  /** An index above every tracked one (any index at or past it holds nothing). */
  get end (): number { return this.#size === 0 ? 0 : this.#base + this.#slots.length - this.#head }

  get (index: number): T | undefined {
    const at = index - this.#base
    return at < 0 ? undefined : this.#slots[this.#head + at]
  }

  set (index: number, value: T): void {
    if (this.#size === 0) {
      this.#slots = []
      this.#head = 0
      this.#base = index
    } else if (index < this.#base) {
      // Below the window (not expected: indexes are tracked above the applied index): grow it downwards.
      const gap = this.#base - index
      this.#slots = [...new Array<T | undefined>(gap), ...this.#slots.slice(this.#head)]
      this.#head = 0
      this.#base = index
    }
    const at = this.#head + index - this.#base
    while (this.#slots.length < at) this.#slots.push(undefined)
    if (this.#slots[at] === undefined) this.#size++
    this.#slots[at] = value
  }

  /** Removes and returns the value at `index`. */
  take (index: number): T | undefined {
    const at = index - this.#base
    if (at < 0) return undefined
    const slot = this.#head + at
    const value = this.#slots[slot]
    if (value === undefined) return undefined
    this.#slots[slot] = undefined
    this.#size--
    if (this.#size === 0) {
      this.#slots = []
      this.#head = 0
      return value
    }
    if (at === 0) {
      // Slide past the empty prefix; compact the array once the dead head is most of it.
      while (this.#slots[this.#head] === undefined) { this.#head++; this.#base++ }
      if (this.#head >= 1024 && this.#head * 2 > this.#slots.length) {
        this.#slots = this.#slots.slice(this.#head)
        this.#head = 0
      }
    }
    return value
  }

  /** Every tracked index and value, in index order (a copy: safe to `take` while iterating). */
  entries (): Array<[number, T]> {
    const out: Array<[number, T]> = []
    for (let i = this.#head; i < this.#slots.length; i++) {
      const value = this.#slots[i]
      if (value !== undefined) out.push([this.#base + i - this.#head, value])
    }
    return out
  }

  clear (): void {
    this.#slots = []
    this.#head = 0
    this.#size = 0
  }
}
