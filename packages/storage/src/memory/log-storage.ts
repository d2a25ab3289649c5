import { CompactedError, throwIfAborted, type AbortOptions, type EntryType, type LogEntry, type LogStorage } from '@synod/interfaces'
import { raceAbort } from '../util/abort.js'
import { Lifecycle } from '../util/lifecycle.js'
import { validateAppend, validateIndex } from '../util/validate.js'

/** Options of {@link createMemoryLogStorage}. */
export interface MemoryLogStorageOptions {
  /**
   * Copy entry bytes on the way in and out, so no caller can alias the stored state. With `false`
   * the log keeps the entry objects it is given and hands those same objects back from
   * `entries()`: no copy per entry (about a third of an in-process Raft cluster's CPU time), for
   * callers that never modify an entry or its buffer after appending or reading it (the Synod Raft
   * and Paxos drivers never do; a state machine that writes into `entry.data` would).
   * @default true
   */
  copy?: boolean
}

/**
 * A LogStorage kept in memory (etcd's `MemoryStorage`): for tests, the simulator and in-process
 * clusters. Survives `stop()`/`start()` of the same instance, nothing else.
 *
 * By default entry bytes are copied on the way in and out, so callers cannot alias its state, but
 * not into one buffer per entry: a 100-byte `Uint8Array` of its own costs far more than its 100
 * bytes (a separate backing store the garbage collector tracks). Appended bytes are packed into
 * shared arenas and the metadata into typed-array blocks; see {@link EntryBlock}.
 */
export function createMemoryLogStorage (options: MemoryLogStorageOptions = {}): LogStorage {
  return new MemoryLogStorage(options.copy ?? true)
}

/** Entries per metadata block: a power of two, so a position splits into block and slot with a shift. */
const BLOCK_SHIFT = 10
const BLOCK_ENTRIES = 1 << BLOCK_SHIFT
const SLOT_MASK = BLOCK_ENTRIES - 1
/** The first arena is small (a test's log holds a few entries); later ones double up to this. */
const FIRST_ARENA_BYTES = 16 * 1024
const MAX_ARENA_BYTES = 1024 * 1024

/** Entry types by their code in `EntryBlock.types`. */
const TYPES: readonly EntryType[] = ['command', 'noop', 'config']
const RESOLVED: Promise<void> = Promise.resolve()

/**
 * `BLOCK_ENTRIES` consecutive entries. When copying, an entry's bytes live in an arena (a large
 * `Uint8Array` shared by many entries) at `offsets[slot]`, and an arena is released once no block
 * refers to it, that is once compaction dropped every block whose entries it holds. Without
 * copying, `kept` holds the caller's entry objects.
 */
class EntryBlock {
  readonly terms = new Float64Array(BLOCK_ENTRIES)
  readonly types: Uint8Array
  readonly offsets: Uint32Array
  readonly lengths: Uint32Array
  readonly arenas: Array<Uint8Array | undefined>
  readonly kept: Array<LogEntry | undefined>

  constructor (copy: boolean) {
    const metadata = copy ? BLOCK_ENTRIES : 0
    this.types = new Uint8Array(metadata)
    this.offsets = new Uint32Array(metadata)
    this.lengths = new Uint32Array(metadata)
    this.arenas = new Array<Uint8Array | undefined>(metadata)
    this.kept = new Array<LogEntry | undefined>(copy ? 0 : BLOCK_ENTRIES)
  }
}

class MemoryLogStorage implements LogStorage {
  private readonly lifecycle = new Lifecycle('memory log storage')
  private compactedIndex = 0
  private compactedTerm = 0
  private last = 0
  /** `blocks[0]` slot 0 holds the entry at index `base`; compaction drops whole leading blocks. */
  private blocks: EntryBlock[] = []
  private base = 1
  private arena: Uint8Array = new Uint8Array(0)
  private arenaUsed = 0

  constructor (private readonly copy: boolean) {}

  async start (): Promise<void> { this.lifecycle.started = true }
  async stop (): Promise<void> { this.lifecycle.started = false }

  firstIndex (): number { return this.compactedIndex + 1 }
  lastIndex (): number { return this.last }

  term (index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm
    if (index < this.compactedIndex || index > this.last) return undefined
    const position = index - this.base
    return this.blocks[position >>> BLOCK_SHIFT]?.terms[position & SLOT_MASK]
  }

  // Mutations run synchronously, so concurrent calls take effect in call order; without a signal
  // they skip the async wrapper (a Raft leader appends thousands of times a second).
  append (entries: readonly LogEntry[], options?: AbortOptions): Promise<void> {
    return this.#mutate(options, () => { this.#append(entries) })
  }

  truncateSuffix (fromIndex: number, options?: AbortOptions): Promise<void> {
    return this.#mutate(options, () => {
      validateIndex(fromIndex, 'fromIndex')
      if (fromIndex <= this.compactedIndex) throw new CompactedError(fromIndex, this.firstIndex())
      if (fromIndex <= this.last) this.#truncateFrom(fromIndex)
    })
  }

  compactPrefix (upToIndex: number, term: number, options?: AbortOptions): Promise<void> {
    return this.#mutate(options, () => {
      validateIndex(upToIndex, 'upToIndex')
      if (upToIndex <= this.compactedIndex) return
      if (upToIndex >= this.last) {
        this.blocks = []
        this.base = upToIndex + 1
        this.last = upToIndex
        this.arena = new Uint8Array(0)
        this.arenaUsed = 0
      } else {
        const dead = (upToIndex + 1 - this.base) >>> BLOCK_SHIFT
        if (dead > 0) {
          this.blocks.splice(0, dead)
          this.base += dead * BLOCK_ENTRIES
        }
      }
      this.compactedIndex = upToIndex
      this.compactedTerm = term
    })
  }

  async entries (from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    if (from < this.firstIndex()) throw new CompactedError(from, this.firstIndex())
    const maxBytes = options?.maxBytes ?? Infinity
    const end = Math.min(to, this.last + 1)
    if (!this.copy) return this.#keptEntries(from, end, maxBytes)
    // First pass: how many entries fit; second: one buffer for all their bytes, one view per entry.
    let count = 0
    let bytes = 0
    for (let index = from; index < end; index++) {
      const length = this.#block(index).lengths[(index - this.base) & SLOT_MASK] ?? 0
      if (count > 0 && bytes + length > maxBytes) break
      bytes += length
      count++
    }
    const out = new Uint8Array(bytes)
    const result = new Array<LogEntry>(count)
    let at = 0
    for (let i = 0; i < count; i++) {
      const index = from + i
      const block = this.#block(index)
      const slot = (index - this.base) & SLOT_MASK
      const length = block.lengths[slot] ?? 0
      const offset = block.offsets[slot] ?? 0
      const arena = block.arenas[slot]
      if (arena !== undefined && length > 0) out.set(arena.subarray(offset, offset + length), at)
      result[i] = { index, term: block.terms[slot] ?? 0, type: TYPES[block.types[slot] ?? 0] as EntryType, data: new Uint8Array(out.buffer, at, length) }
      at += length
    }
    return result
  }

  #keptEntries (from: number, end: number, maxBytes: number): LogEntry[] {
    const result: LogEntry[] = []
    let bytes = 0
    for (let index = from; index < end; index++) {
      const entry = this.#block(index).kept[(index - this.base) & SLOT_MASK] as LogEntry
      bytes += entry.data.length
      if (result.length > 0 && bytes > maxBytes) break
      result.push(entry)
    }
    return result
  }

  #mutate (options: AbortOptions | undefined, operation: () => void): Promise<void> {
    const signal = options?.signal
    if (signal !== undefined) {
      return raceAbort(signal, async () => {
        this.lifecycle.assert()
        operation()
      })
    }
    try {
      this.lifecycle.assert()
      operation()
      return RESOLVED
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #block (index: number): EntryBlock {
    return this.blocks[(index - this.base) >>> BLOCK_SHIFT] as EntryBlock
  }

  #append (entries: readonly LogEntry[]): void {
    validateAppend(entries, this.compactedIndex, this.last)
    const first = entries[0]
    if (first === undefined) return
    if (first.index <= this.last) this.#truncateFrom(first.index)
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LogEntry
      const position = entry.index - this.base
      const blockNumber = position >>> BLOCK_SHIFT
      let block = this.blocks[blockNumber]
      if (block === undefined) {
        block = new EntryBlock(this.copy)
        this.blocks.push(block)
      }
      const slot = position & SLOT_MASK
      block.terms[slot] = entry.term
      if (!this.copy) {
        block.kept[slot] = entry
        continue
      }
      const data = entry.data
      const length = data.length
      if (this.arenaUsed + length > this.arena.length) this.#newArena(length)
      if (length > 0) this.arena.set(data, this.arenaUsed)
      block.types[slot] = entry.type === 'command' ? 0 : entry.type === 'noop' ? 1 : 2
      block.offsets[slot] = this.arenaUsed
      block.lengths[slot] = length
      block.arenas[slot] = this.arena
      this.arenaUsed += length
    }
    this.last = first.index + entries.length - 1
  }

  #newArena (atLeast: number): void {
    const next = this.arena.length === 0 ? FIRST_ARENA_BYTES : Math.min(2 * this.arena.length, MAX_ARENA_BYTES)
    this.arena = new Uint8Array(Math.max(next, atLeast))
    this.arenaUsed = 0
  }

  /**
   * Drops entries from `fromIndex` (a live index) on. Arena bytes are written in index order, so
   * every byte after the first dropped entry's belongs to dropped entries: writing resumes there.
   */
  #truncateFrom (fromIndex: number): void {
    const block = this.#block(fromIndex)
    const slot = (fromIndex - this.base) & SLOT_MASK
    const arena = block.arenas[slot]
    if (this.copy && arena !== undefined) {
      this.arena = arena
      this.arenaUsed = block.offsets[slot] ?? 0
    }
    this.last = fromIndex - 1
    // Blocks wholly past the new end go; the slots left in the last block are overwritten later
    // (kept entries are released at once, not when overwritten).
    const keep = this.last < this.base ? 0 : ((this.last - this.base) >>> BLOCK_SHIFT) + 1
    if (this.blocks.length > keep) this.blocks.length = keep
    if (!this.copy && keep > 0) (this.blocks[keep - 1] as EntryBlock).kept.fill(undefined, ((this.last - this.base) & SLOT_MASK) + 1)
  }
}
