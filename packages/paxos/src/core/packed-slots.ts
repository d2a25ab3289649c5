import type { EntryType, LogEntry } from '@synod/interfaces'

const TYPE_CODES: Record<EntryType, number> = { command: 0, noop: 1, config: 2 }
const TYPES: readonly EntryType[] = ['command', 'noop', 'config']
const NO_BUFFER = new ArrayBuffer(0)

/**
 * Stored slots kept without a heap object per slot: rounds, kinds, offsets and lengths in arrays
 * of numbers, bytes left where they are (the buffers the slots were encoded into or received in).
 *
 * The core keeps every slot it has not compacted, and a slot lives for thousands of rounds after
 * it is applied. Held as `LogEntry` objects (two per slot: the entry and its byte view) they are
 * what the garbage collector keeps copying and marking; packed, an applied slot costs a few
 * numbers. Only catch-up and phase 1 read applied slots back, and those get a fresh entry.
 */
export class PackedSlots {
  /** The slot held at array position `#start`. */
  #first = 1
  #start = 0
  #terms: number[] = []
  #types: number[] = []
  #buffers: ArrayBufferLike[] = []
  #offsets: number[] = []
  #lengths: number[] = []

  /** Forgets everything; the next slot pushed is `first`. */
  reset (first: number): void {
    this.#first = first
    this.#start = 0
    this.#terms = []
    this.#types = []
    this.#buffers = []
    this.#offsets = []
    this.#lengths = []
  }

  get size (): number {
    return this.#terms.length - this.#start
  }

  /** Appends the next slot (`entry.index` must be the slot after the last one held). */
  push (entry: LogEntry): void {
    if (entry.index !== this.#first + this.size) throw new RangeError(`packed slot ${entry.index} is not next after ${this.#first + this.size - 1}`)
    this.#terms.push(entry.term)
    this.#types.push(TYPE_CODES[entry.type])
    this.#buffers.push(entry.data.buffer)
    this.#offsets.push(entry.data.byteOffset)
    this.#lengths.push(entry.data.byteLength)
  }

  /** A fresh entry for `slot`, or undefined if it is not held here. */
  get (slot: number): LogEntry | undefined {
    const at = this.#position(slot)
    if (at < 0) return undefined
    return { index: slot, term: this.#terms[at]!, type: TYPES[this.#types[at]!]!, data: new Uint8Array(this.#buffers[at]!, this.#offsets[at], this.#lengths[at]) }
  }

  /** Drops every slot up to `slot` (compaction). */
  dropThrough (slot: number): void {
    const count = Math.min(this.size, slot - this.#first + 1)
    if (count <= 0) return
    this.#start += count
    this.#first += count
    // Let go of the dropped slots' buffers now, not at the next shift.
    this.#buffers.fill(NO_BUFFER, this.#start - count, this.#start)
    // Shift the arrays only once the dead prefix outgrows the live part: compaction stays O(1) amortised.
    if (this.#start > 1024 && this.#start > this.size) {
      this.#terms = this.#terms.slice(this.#start)
      this.#types = this.#types.slice(this.#start)
      this.#buffers = this.#buffers.slice(this.#start)
      this.#offsets = this.#offsets.slice(this.#start)
      this.#lengths = this.#lengths.slice(this.#start)
      this.#start = 0
    }
  }

  #position (slot: number): number {
    const offset = slot - this.#first
    return offset >= 0 && offset < this.size ? this.#start + offset : -1
  }
}
