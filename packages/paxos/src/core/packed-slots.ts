import type { EntryType, LogEntry } from '@synod/interfaces'

const TYPE_CODES: Record<EntryType, number> = { command: 0, noop: 1, config: 2 }
const TYPES: readonly EntryType[] = ['command', 'noop', 'config']

/** Consecutive slots packed together, from `first`; slots before `first + start` were dropped. */
interface Chunk {
  first: number
  start: number
  terms: Float64Array
  types: Uint8Array
  offsets: Float64Array
  lengths: Uint32Array
  buffers: ArrayBufferLike[]
}

/**
 * Stored slots kept without a heap object per slot: rounds, kinds, offsets and lengths in typed
 * arrays, one chunk per packing, and the bytes left where they are (the buffers the slots were
 * encoded into or received in).
 *
 * The core keeps every slot it has not compacted, and a slot lives for thousands of rounds after
 * it is applied. Held as `LogEntry` objects (two per slot: the entry and its byte view) they are
 * what the garbage collector keeps copying and marking; packed, an applied slot costs a few
 * numbers. Only catch-up and phase 1 read applied slots back, and those get a fresh entry.
 */
export class PackedSlots {
  #chunks: Chunk[] = []
  /** The slot the next packed chunk must start at. */
  #next = 1

  /** Forgets everything; the next slot packed is `first`. */
  reset (first: number): void {
    this.#chunks = []
    this.#next = first
  }

  /** Packs `entries` (consecutive stored slots, the first one right after the last packed). */
  pack (entries: readonly LogEntry[], count: number): void {
    if (count <= 0) return
    if (entries[0]!.index !== this.#next) throw new RangeError(`packed slot ${entries[0]!.index} is not next after ${this.#next - 1}`)
    const chunk: Chunk = {
      first: this.#next,
      start: 0,
      terms: new Float64Array(count),
      types: new Uint8Array(count),
      offsets: new Float64Array(count),
      lengths: new Uint32Array(count),
      buffers: new Array<ArrayBufferLike>(count)
    }
    for (let i = 0; i < count; i++) {
      const entry = entries[i]!
      const data = entry.data
      chunk.terms[i] = entry.term
      chunk.types[i] = TYPE_CODES[entry.type]
      chunk.offsets[i] = data.byteOffset
      chunk.lengths[i] = data.byteLength
      chunk.buffers[i] = data.buffer
    }
    this.#chunks.push(chunk)
    this.#next += count
  }

  /** A fresh entry for `slot`, or undefined if it is not held here. */
  get (slot: number): LogEntry | undefined {
    for (let c = this.#chunks.length - 1; c >= 0; c--) {
      const chunk = this.#chunks[c]!
      if (slot < chunk.first) continue
      const at = slot - chunk.first
      if (at < chunk.start || at >= chunk.terms.length) return undefined
      return { index: slot, term: chunk.terms[at]!, type: TYPES[chunk.types[at]!]!, data: new Uint8Array(chunk.buffers[at]!, chunk.offsets[at], chunk.lengths[at]) }
    }
    return undefined
  }

  /** Drops every slot up to `slot` (compaction). */
  dropThrough (slot: number): void {
    while (this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!
      const end = chunk.first + chunk.terms.length - 1
      if (end <= slot) {
        this.#chunks.shift()
        continue
      }
      const start = Math.max(chunk.start, slot - chunk.first + 1)
      // Let go of the dropped slots' buffers now.
      chunk.buffers.fill(NO_BUFFER, chunk.start, start)
      chunk.start = start
      break
    }
  }
}

const NO_BUFFER = new ArrayBuffer(0)
