import { EntryLocations } from './entry-locations.js'

/**
 * What the journal knows in memory about one group: its compaction point, its hard state and,
 * for every live entry, where the entry lies in the journal (see EntryLocations: 21 bytes per
 * entry in typed arrays). Entry data stays on disk. Compacted positions are reclaimed in chunks.
 */
export class GroupState {
  compactedIndex = 0
  compactedTerm = 0
  /** Segment holding the latest COMPACT record (what GC must keep or rewrite); 0 if none. */
  compactSeq = 0
  /** The latest durable hard state as JSON, and the segment holding its record (0 if none). */
  hardStateJson: string | undefined
  hardStateSeq = 0

  /** The log as it will be once every queued operation is applied; calls are validated against it. */
  queuedLastIndex = 0
  queuedCompactedIndex = 0
  /** Operations queued for this group and not yet applied. */
  pending = 0
  private settledWaiters: Array<() => void> = []

  /** Position in the arrays of entry `compactedIndex + 1`. */
  private start = 0
  private readonly locations = new EntryLocations()

  constructor (readonly id: number) {}

  /** Marks one queued operation of this group as done (applied or rejected). */
  operationDone (): void {
    this.pending--
    if (this.pending === 0 && this.settledWaiters.length > 0) {
      const waiters = this.settledWaiters
      this.settledWaiters = []
      for (const wake of waiters) wake()
    }
  }

  /** Resolves once every operation queued for this group so far is done. */
  async settled (): Promise<void> {
    if (this.pending === 0) return
    await new Promise<void>((resolve) => { this.settledWaiters.push(resolve) })
  }

  lastIndex (): number {
    return this.compactedIndex + this.locations.length - this.start
  }

  liveEntries (): number {
    return this.locations.length - this.start
  }

  term (index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm
    if (index < this.compactedIndex || index > this.lastIndex()) return undefined
    return this.locations.term(this.position(index))
  }

  /** Bytes of entry data over all live entries. */
  liveDataBytes (): number {
    let bytes = 0
    for (let position = this.start; position < this.locations.length; position++) bytes += this.locations.dataLength(position)
    return bytes
  }

  /** Segment of the oldest live entry, or undefined if the group has none. */
  oldestSeq (): number | undefined {
    return this.start < this.locations.length ? this.locations.seq(this.start) : undefined
  }

  /** Where entry `index` lies; the caller checks it is live. */
  location (index: number): { seq: number, offset: number, length: number, typeCode: number, term: number } {
    const position = this.position(index)
    const locations = this.locations
    return {
      seq: locations.seq(position),
      offset: locations.offset(position),
      length: locations.dataLength(position),
      typeCode: locations.type(position),
      term: locations.term(position)
    }
  }

  /**
   * Set while recovery is replaying records of this group whose predecessors were collected: the
   * group's log is only known from `unexplainedBase + 1` on, until a compaction record covering
   * the base arrives (GC rewrites the latest one forward, so it comes late). Still set at the end
   * of recovery means acknowledged entries are missing.
   */
  unexplainedBase: number | undefined
  /** The highest compaction applied to this group (recovery needs it after a rebase). */
  private latestCompaction: { index: number, term: number } | undefined

  /**
   * Records entry `index`: any live entries at or after it are replaced. Returns false, changing
   * nothing, if `index` would leave a gap or lies in the compacted prefix.
   *
   * While `recovering`, a gap is accepted: the entries between were in collected segments, so
   * they were dead, and so was everything before them (live entries are never collected, and a
   * live entry's predecessors are live or compacted). The group restarts at the gap with an
   * unexplained base; an index at or below that base moves it down.
   */
  put (index: number, seq: number, offset: number, length: number, typeCode: number, term: number, recovering = false): boolean {
    if (index > this.lastIndex() + 1 || index <= this.compactedIndex) {
      const belowBase = this.unexplainedBase !== undefined && index <= this.compactedIndex
      if (!recovering || index < 1 || (index <= this.compactedIndex && !belowBase)) return false
      this.rebase(index - 1)
    } else if (index <= this.lastIndex()) {
      this.truncateFrom(index)
    }
    this.locations.push(seq, offset, length, typeCode, term)
    return true
  }

  truncateFrom (fromIndex: number): void {
    if (this.unexplainedBase !== undefined && fromIndex <= this.compactedIndex) {
      this.rebase(fromIndex - 1)
      return
    }
    if (fromIndex > this.lastIndex()) return
    this.locations.truncate(Math.max(this.start, this.position(Math.max(fromIndex, this.compactedIndex + 1))))
  }

  compact (upToIndex: number, term: number): void {
    if (upToIndex >= (this.latestCompaction?.index ?? 0)) this.latestCompaction = { index: upToIndex, term }
    if (upToIndex >= this.lastIndex()) {
      this.start = 0
      this.clearArrays()
    } else if (upToIndex > this.compactedIndex) {
      this.start = this.position(upToIndex + 1)
      // Reclaim the dead prefix once it is both large and most of the arrays.
      if (this.start > 1024 && this.start * 2 > this.locations.length) {
        this.locations.dropFront(this.start)
        this.start = 0
      }
    }
    // Recovery may see entries (collected prefix) before the rewritten compaction record.
    if (this.unexplainedBase !== undefined && upToIndex >= this.unexplainedBase) this.unexplainedBase = undefined
    if (upToIndex >= this.compactedIndex) {
      this.compactedIndex = upToIndex
      this.compactedTerm = term
    }
  }

  /** Forgets the group's durable state (its records are dead); queued counters stay. */
  reset (): void {
    this.compactedIndex = 0
    this.compactedTerm = 0
    this.compactSeq = 0
    this.hardStateJson = undefined
    this.hardStateSeq = 0
    this.unexplainedBase = undefined
    this.latestCompaction = undefined
    this.start = 0
    this.clearArrays()
  }

  /**
   * Recovery only: a record reaches below the unexplained base, so everything seen since is a
   * suffix that was later cut off or rewritten (the segment holding the entries it replaced was
   * collected). Start over from the lower base; the compaction record must still cover it.
   */
  private rebase (base: number): void {
    this.start = 0
    this.clearArrays()
    this.compactedIndex = base
    // The latest compaction seen may already explain the base (it came before the records that
    // were cut off); Raft never truncates below a compaction, so the base cannot be lower.
    const explained = base === 0 || base === this.latestCompaction?.index
    this.compactedTerm = base === 0 ? 0 : this.latestCompaction?.term ?? 0
    this.unexplainedBase = explained ? undefined : base
  }

  private position (index: number): number {
    return this.start + index - this.compactedIndex - 1
  }

  private clearArrays (): void {
    this.locations.truncate(0)
  }
}
