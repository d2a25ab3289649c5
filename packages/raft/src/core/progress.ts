/**
 * The leader's view of one follower's log (etcd's tracker.Progress, raft-rs's Progress).
 *
 * - `probe`: the leader does not know where the follower's log matches; it sends one append at a
 *   time and waits for the answer (or a heartbeat response) before sending the next.
 * - `replicate`: the follower is known to match up to `match`; the leader streams appends
 *   optimistically, bounded by an in-flight window counted in messages and bytes.
 * - `snapshot`: the entries the follower needs are compacted; a snapshot is being sent and nothing
 *   else is until it is acknowledged or fails.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** A bounded window of in-flight appends, each remembered by its last index and size. */
export class Inflights {
  readonly #lastIndexes: number[] = []
  readonly #sizes: number[] = []
  #head = 0
  #bytes = 0

  constructor (readonly maxCount: number, readonly maxBytes: number) {}

  get count (): number { return this.#lastIndexes.length - this.#head }
  get bytes (): number { return this.#bytes }

  full (): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.#bytes >= this.maxBytes)
  }

  add (lastIndex: number, bytes: number): void {
    this.#lastIndexes.push(lastIndex)
    this.#sizes.push(bytes)
    this.#bytes += bytes
  }

  /** Frees every append whose last index is at most `index` (they were acknowledged). */
  freeUpTo (index: number): void {
    while (this.#head < this.#lastIndexes.length && (this.#lastIndexes[this.#head] ?? 0) <= index) {
      this.#bytes -= this.#sizes[this.#head] ?? 0
      this.#head++
    }
    if (this.#head > 1024 && this.#head * 2 > this.#lastIndexes.length) {
      this.#lastIndexes.splice(0, this.#head)
      this.#sizes.splice(0, this.#head)
      this.#head = 0
    }
  }

  reset (): void {
    this.#lastIndexes.length = 0
    this.#sizes.length = 0
    this.#head = 0
    this.#bytes = 0
  }
}

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** In probe state: an append is outstanding, so no other is sent until an answer arrives. */
  probeSent = false
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0
  /** Set by any message from the peer; check-quorum reads and clears it every election timeout. */
  recentActive = false
  /** The leader tick count of the newest heartbeat this peer acknowledged (for lease reads). */
  ackedTick = Number.NEGATIVE_INFINITY
  /** An entry read from storage is in progress for this peer (async fetch); nothing else is sent meanwhile. */
  fetching = false
  /** The highest commit index this peer was told (by an append or a heartbeat) in this term. */
  sentCommit = 0
  /**
   * Lazy commit propagation: something on this peer waits for the commit index to reach this
   * index (a read answered to it, a proposal it forwarded), so it is told without waiting for a heartbeat.
   */
  commitWanted = 0
  readonly inflights: Inflights

  constructor (next: number, maxInflightCount: number, maxInflightBytes: number, public isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflightCount, maxInflightBytes)
  }

  becomeProbe (): void {
    // After a snapshot the follower holds at least the snapshot; resume right after it.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot
      this.#reset('probe')
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.#reset('probe')
      this.next = this.match + 1
    }
  }

  becomeReplicate (): void {
    this.#reset('replicate')
    this.next = this.match + 1
  }

  becomeSnapshot (snapshotIndex: number): void {
    this.#reset('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  #reset (state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0
    this.inflights.reset()
  }

  /** Records an acknowledgement up to `index`. Returns false if it was stale. */
  maybeUpdate (index: number): boolean {
    let updated = false
    if (this.match < index) {
      this.match = index
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, index + 1)
    return updated
  }

  /** Records that an append ending at `lastIndex` was sent. */
  sentEntries (lastIndex: number, bytes: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex, bytes)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  /**
   * Handles a rejected append of `rejected` (its prevIndex) with the follower's hint. Returns
   * false if the rejection is stale (an answer to an older append).
   */
  maybeDecreaseTo (rejected: number, nextProbe: number): boolean {
    // The follower already acknowledged everything up to match: a rejection at or below it is old.
    if (rejected <= this.match) return false
    if (this.state === 'replicate') {
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, nextProbe + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Paused peers get no appends (heartbeats still flow). */
  isPaused (): boolean {
    if (this.fetching) return true
    switch (this.state) {
      case 'probe': return this.probeSent
      case 'replicate': return this.inflights.full()
      case 'snapshot': return true
    }
  }
}
