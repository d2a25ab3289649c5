import type { LogEntry } from '@synod/interfaces'

/**
 * What the core may ask of the durable log synchronously: position metadata only. `LogStorage`
 * from @synod/interfaces satisfies it. Entry bodies are read asynchronously by the driver when
 * the core asks for them (see `EntryFetch` in ready.ts).
 */
export interface LogMetadata {
  firstIndex(): number
  lastIndex(): number
  term(index: number): number | undefined
}

/** Approximate in-memory and wire size of an entry: its data plus a small fixed header. */
export function entrySize (entry: LogEntry): number {
  return entry.data.byteLength + 16
}

/**
 * The core's view of the log: a compacted prefix (up to `snapshotIndex`), entries that are durable
 * in storage, and an in-memory tail (`cache`) holding every entry not yet durable plus recently
 * durable ones. Terms of any entry are known synchronously (cache, else storage metadata); bodies
 * of entries older than the cache must be fetched from storage.
 *
 * Invariants: every entry with index > `persisted` is in the cache; every entry below
 * `cacheOffset` is durable and matches storage.
 */
export class RaftLog {
  snapshotIndex: number
  snapshotTerm: number
  /** Highest index known durable in storage and agreeing with this log. */
  persisted: number
  committed: number
  /** Highest index handed out for applying. */
  applied: number
  // The cache is #cache[#head..]; #head advances on eviction and the array is compacted lazily,
  // so evicting from the front costs O(1) amortized instead of a splice per call. #ends[k] is the
  // total entrySize of #cache[0..k) (one longer than #cache): the bytes of any cached range are a
  // subtraction, so slicing, sizing and evicting never walk the entries again.
  #cache: Array<LogEntry | undefined> = []
  #ends: number[] = [0]
  #head = 0
  #cacheOffset: number

  constructor (readonly storage: LogMetadata, snapshot: { index: number, term: number }, commit: number, applied: number) {
    this.snapshotIndex = snapshot.index
    this.snapshotTerm = snapshot.term
    const storedLast = storage.lastIndex()
    this.persisted = Math.max(storedLast, snapshot.index)
    this.#cacheOffset = this.persisted + 1
    this.committed = Math.min(Math.max(commit, snapshot.index), this.persisted)
    this.applied = Math.min(Math.max(applied, snapshot.index), this.committed)
  }

  get cacheOffset (): number { return this.#cacheOffset }
  get cacheBytes (): number { return (this.#ends[this.#cache.length] as number) - (this.#ends[this.#head] as number) }

  firstIndex (): number { return this.snapshotIndex + 1 }

  #cachedCount (): number {
    return this.#cache.length - this.#head
  }

  #at (index: number): LogEntry | undefined {
    return this.#cache[this.#head + index - this.#cacheOffset]
  }

  lastIndex (): number {
    return this.#cacheOffset + this.#cachedCount() - 1
  }

  lastTerm (): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of `index`, or undefined if it is compacted or beyond the log. */
  term (index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined
    if (index >= this.#cacheOffset) return this.#at(index)?.term
    return this.storage.term(index)
  }

  matchTerm (index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** True if a log ending at (lastIndex, lastTerm) is at least as up to date as this one (§5.4.1). */
  isUpToDate (lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm()
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex())
  }

  /** The entry at `index` if it is in memory. */
  cached (index: number): LogEntry | undefined {
    return index >= this.#cacheOffset ? this.#at(index) : undefined
  }

  /**
   * Entries from `from` (inclusive) up to `to` (exclusive) from memory, stopping once `maxBytes` is
   * reached (at least one entry). Returns undefined if `from` is older than the cache.
   */
  cachedSlice (from: number, to: number, maxBytes: number): LogEntry[] | undefined {
    if (from < this.#cacheOffset) return undefined
    const start = this.#head + from - this.#cacheOffset
    const end = this.#head + Math.min(to, this.lastIndex() + 1) - this.#cacheOffset
    if (start >= end) return []
    return this.#cache.slice(start, this.#fitEnd(start, end, maxBytes)) as LogEntry[]
  }

  /** Total entrySize of the cached entries [from, to) (both within the cache). */
  cachedBytes (from: number, to: number): number {
    const ends = this.#ends
    return (ends[this.#head + to - this.#cacheOffset] as number) - (ends[this.#head + from - this.#cacheOffset] as number)
  }

  /**
   * The end (exclusive cache position) of the longest run from `start` within `end` whose sizes sum
   * to at most `maxBytes`, and at least one entry.
   */
  #fitEnd (start: number, end: number, maxBytes: number): number {
    const ends = this.#ends
    const limit = (ends[start] as number) + maxBytes
    if ((ends[end] as number) <= limit) return end
    // Binary search for the last k in (start, end) with ends[k] <= limit.
    let low = start + 1
    let high = end - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      if ((ends[mid] as number) <= limit) low = mid + 1
      else high = mid - 1
    }
    return Math.max(high, start + 1)
  }

  /** Appends entries at the end (a leader's own proposals). */
  appendLocal (entries: readonly LogEntry[]): void {
    const cache = this.#cache
    const ends = this.#ends
    let total = ends[cache.length] as number
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LogEntry
      cache.push(entry)
      total += entrySize(entry)
      ends.push(total)
    }
  }

  /**
   * The index of the first entry in `entries` that conflicts with this log (different term) or is
   * new, or 0 if all of them are already present.
   */
  findConflict (entries: readonly LogEntry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index
    }
    return 0
  }

  /**
   * A follower's answer to a rejected append (etcd's findConflictByTerm): the largest index at or
   * below `index` whose term is at most `term`, with that term. The leader skips every index above
   * it, since none of those can match.
   */
  findConflictByTerm (index: number, term: number): { index: number, term: number } {
    for (let i = Math.min(index, this.lastIndex()); i >= this.snapshotIndex; i--) {
      const t = this.term(i)
      if (t === undefined) return { index: i, term: 0 }
      if (t <= term) return { index: i, term: t }
    }
    return { index: this.snapshotIndex, term: 0 }
  }

  /**
   * Writes `entries` (contiguous) into the log, truncating any conflicting suffix first. Entries
   * before the first conflict are left untouched (Raft §5.3: never rewrite matching entries).
   * Returns the index of the last entry written or matched.
   */
  appendFollower (entries: readonly LogEntry[]): void {
    const first = entries[0]
    if (first === undefined) return
    // The common case, entries that extend the log: every one is new, nothing to compare or truncate.
    if (first.index === this.lastIndex() + 1) {
      this.appendLocal(entries)
      return
    }
    const conflict = this.findConflict(entries)
    if (conflict === 0) return
    const fresh = entries.slice(conflict - first.index)
    this.#truncateFrom(conflict)
    this.appendLocal(fresh)
  }

  #truncateFrom (index: number): void {
    if (index <= this.committed) throw new Error(`raft invariant: truncating committed entry ${index} (commit ${this.committed})`)
    if (index < this.#cacheOffset) {
      // The conflict lies in durable entries no longer cached: the cache restarts at it.
      this.#resetCache(index)
    } else {
      const keep = this.#head + index - this.#cacheOffset
      this.#cache.length = keep
      this.#ends.length = keep + 1
    }
    this.persisted = Math.min(this.persisted, index - 1)
  }

  /** Entries not yet durable, to be written by the driver. */
  unpersisted (): LogEntry[] {
    const from = Math.max(this.persisted + 1, this.#cacheOffset)
    const start = this.#head + from - this.#cacheOffset
    return start >= this.#cache.length ? [] : this.#cache.slice(start) as LogEntry[]
  }

  /** Called once the driver reports entries durable up to (index, term). */
  persistedTo (index: number, term: number): void {
    if (index > this.persisted && this.matchTerm(index, term)) this.persisted = index
  }

  commitTo (index: number): boolean {
    if (index <= this.committed) return false
    if (index > this.lastIndex()) throw new Error(`raft invariant: commit ${index} beyond last index ${this.lastIndex()}`)
    this.committed = index
    return true
  }

  /** Forgets the whole log and restarts it after a snapshot (a follower installing one). */
  restore (index: number, term: number): void {
    this.snapshotIndex = index
    this.snapshotTerm = term
    this.#resetCache(index + 1)
    this.persisted = index
    this.committed = index
    this.applied = index
  }

  /** Marks everything up to `index` compacted (a snapshot covers it). */
  compact (index: number, term: number): void {
    if (index <= this.snapshotIndex) return
    this.snapshotIndex = index
    this.snapshotTerm = term
    if (index >= this.#cacheOffset) this.#dropCachedUpTo(index)
    if (this.#cacheOffset <= index) this.#cacheOffset = index + 1
  }

  /** Evicts durable, applied entries from memory while the cache is over `maxBytes`. */
  evict (maxBytes: number): void {
    if (this.cacheBytes <= maxBytes) return
    // Only durable, applied entries may go: the cached prefix with index <= limit.
    const limit = Math.min(this.persisted, this.applied)
    const evictable = Math.min(limit - this.#cacheOffset + 1, this.#cachedCount())
    const ends = this.#ends
    const total = ends[this.#cache.length] as number
    let drop = 0
    while (drop < evictable && total - (ends[this.#head + drop] as number) > maxBytes) drop++
    if (drop > 0) this.#dropCachedUpTo(this.#cacheOffset + drop - 1)
  }

  #resetCache (offset: number): void {
    this.#cache = []
    this.#ends = [0]
    this.#head = 0
    this.#cacheOffset = offset
  }

  #dropCachedUpTo (index: number): void {
    const count = Math.min(index - this.#cacheOffset + 1, this.#cachedCount())
    if (count <= 0) return
    // Release the entries at once; their sizes stay in #ends until the array is compacted.
    this.#cache.fill(undefined, this.#head, this.#head + count)
    this.#head += count
    this.#cacheOffset += count
    if (this.#head > 4096 && this.#head * 2 > this.#cache.length) {
      this.#cache = this.#cache.slice(this.#head)
      this.#ends = this.#ends.slice(this.#head)
      this.#head = 0
    }
  }
}
