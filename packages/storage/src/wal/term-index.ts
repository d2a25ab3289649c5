/**
 * The term of every entry, run-length encoded: one run per term change, so millions of entries in
 * a handful of terms cost a few numbers, and `term(index)` never touches the disk.
 */
export class TermIndex {
  private readonly runStarts: number[] = []
  private readonly runTerms: number[] = []

  /** Records that `index` (the next index after the last one recorded) has `term`. */
  push (index: number, term: number): void {
    if (this.runTerms.at(-1) !== term) {
      this.runStarts.push(index)
      this.runTerms.push(term)
    }
  }

  /** Forgets every index >= `fromIndex`. */
  truncateFrom (fromIndex: number): void {
    while (this.runStarts.length > 0 && (this.runStarts.at(-1) as number) >= fromIndex) {
      this.runStarts.pop()
      this.runTerms.pop()
    }
  }

  /** Forgets runs that end before `firstIndex`. */
  dropBefore (firstIndex: number): void {
    let keepFrom = 0
    while (keepFrom + 1 < this.runStarts.length && (this.runStarts[keepFrom + 1] as number) <= firstIndex) keepFrom++
    if (keepFrom > 0) {
      this.runStarts.splice(0, keepFrom)
      this.runTerms.splice(0, keepFrom)
    }
  }

  clear (): void {
    this.runStarts.length = 0
    this.runTerms.length = 0
  }

  /** The term of `index`; the caller checks the index is in the log. */
  termOf (index: number): number | undefined {
    let low = 0
    let high = this.runStarts.length - 1
    let found = -1
    while (low <= high) {
      const mid = (low + high) >>> 1
      if ((this.runStarts[mid] as number) <= index) {
        found = mid
        low = mid + 1
      } else {
        high = mid - 1
      }
    }
    return found < 0 ? undefined : this.runTerms[found]
  }
}
