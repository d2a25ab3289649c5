/**
 * Where each live entry of one group lies in the journal, in typed-array columns: segment
 * sequence number (u32), data offset (u32), data length (u32), entry type (u8) and term (f64),
 * 21 bytes per entry. Capacity grows by half when full and shrinks when mostly empty, so a group
 * costs at most about 32 bytes per live entry plus a small constant.
 */
export class EntryLocations {
  length = 0
  private seqs = new Uint32Array(INITIAL_CAPACITY)
  private offsets = new Uint32Array(INITIAL_CAPACITY)
  private lengths = new Uint32Array(INITIAL_CAPACITY)
  private types = new Uint8Array(INITIAL_CAPACITY)
  private terms = new Float64Array(INITIAL_CAPACITY)

  push (seq: number, offset: number, length: number, type: number, term: number): void {
    if (this.length === this.seqs.length) this.resize(Math.ceil(this.length * 1.5))
    const at = this.length++
    this.seqs[at] = seq
    this.offsets[at] = offset
    this.lengths[at] = length
    this.types[at] = type
    this.terms[at] = term
  }

  seq (position: number): number { return this.seqs[position] as number }
  offset (position: number): number { return this.offsets[position] as number }
  dataLength (position: number): number { return this.lengths[position] as number }
  type (position: number): number { return this.types[position] as number }
  term (position: number): number { return this.terms[position] as number }

  /** Keeps the first `length` positions. */
  truncate (length: number): void {
    this.length = Math.min(this.length, length)
    this.shrinkIfSparse()
  }

  /** Removes the first `count` positions, moving the rest to the front. */
  dropFront (count: number): void {
    if (count <= 0) return
    const keep = this.length - count
    this.seqs.copyWithin(0, count, this.length)
    this.offsets.copyWithin(0, count, this.length)
    this.lengths.copyWithin(0, count, this.length)
    this.types.copyWithin(0, count, this.length)
    this.terms.copyWithin(0, count, this.length)
    this.length = Math.max(0, keep)
    this.shrinkIfSparse()
  }

  private shrinkIfSparse (): void {
    if (this.seqs.length > INITIAL_CAPACITY && this.length * 4 < this.seqs.length) {
      this.resize(Math.max(INITIAL_CAPACITY, this.length * 2))
    }
  }

  private resize (capacity: number): void {
    const copy = <T extends Uint32Array | Uint8Array | Float64Array>(from: T, to: T): T => {
      to.set(from.subarray(0, this.length))
      return to
    }
    this.seqs = copy(this.seqs, new Uint32Array(capacity))
    this.offsets = copy(this.offsets, new Uint32Array(capacity))
    this.lengths = copy(this.lengths, new Uint32Array(capacity))
    this.types = copy(this.types, new Uint8Array(capacity))
    this.terms = copy(this.terms, new Float64Array(capacity))
  }
}

const INITIAL_CAPACITY = 16
