import {
  CompactedError, InvalidArgumentError, NotStartedError, throwIfAborted,
  type AbortOptions, type LogEntry, type LogStorage
} from '@synod/interfaces'
import type { SimRandom } from '../random/random.js'
import { deadHandleError, type DurableFile, type FileModel } from './durable-file.js'

export interface LogState {
  compactedIndex: number
  compactedTerm: number
  /** entries[i].index === compactedIndex + 1 + i */
  entries: LogEntry[]
}

export type LogOp =
  | { type: 'append', entries: readonly LogEntry[] }
  | { type: 'truncate', fromIndex: number }
  | { type: 'compact', upToIndex: number, term: number }

function truncateFrom (state: LogState, fromIndex: number): void {
  const keep = Math.max(0, fromIndex - state.compactedIndex - 1)
  if (keep < state.entries.length) state.entries.length = keep
}

export const logModel: FileModel<LogState, LogOp> = {
  kind: 'log',
  empty: () => ({ compactedIndex: 0, compactedTerm: 0, entries: [] }),
  copy: (state) => ({ ...state, entries: state.entries.slice() }),
  apply (state, op) {
    switch (op.type) {
      case 'append': {
        const fresh = op.entries.filter((entry) => entry.index > state.compactedIndex)
        const first = fresh[0]
        if (first === undefined) return
        truncateFrom(state, first.index)
        state.entries.push(...fresh)
        return
      }
      case 'truncate':
        truncateFrom(state, op.fromIndex)
        return
      case 'compact': {
        if (op.upToIndex <= state.compactedIndex) return
        const drop = op.upToIndex - state.compactedIndex
        state.entries = drop >= state.entries.length ? [] : state.entries.slice(drop)
        state.compactedIndex = op.upToIndex
        state.compactedTerm = op.term
      }
    }
  },
  tear (op, random: SimRandom) {
    if (op.type !== 'append') return random.chance(0.5) ? op : undefined
    // Records before the torn one are intact; the torn record fails its checksum and is dropped.
    const kept = random.int(op.entries.length + 1)
    return kept === 0 ? undefined : { type: 'append', entries: op.entries.slice(0, kept) }
  },
  describe (op) {
    switch (op.type) {
      case 'append': return `append ${op.entries[0]?.index ?? '-'}..${op.entries.at(-1)?.index ?? '-'}`
      case 'truncate': return `truncate from ${op.fromIndex}`
      case 'compact': return `compact to ${op.upToIndex}`
    }
  }
}

function copyEntry (entry: LogEntry): LogEntry {
  return { index: entry.index, term: entry.term, type: entry.type, data: entry.data.slice() }
}

/** A `LogStorage` handle over a simulated file, valid until its process crashes. */
export class SimLogStorage implements LogStorage {
  readonly #file: DurableFile<LogState, LogOp>
  readonly #alive: () => boolean
  #started = false

  constructor (file: DurableFile<LogState, LogOp>, alive: () => boolean) {
    this.#file = file
    this.#alive = alive
  }

  async start (): Promise<void> {
    if (!this.#alive()) throw deadHandleError('log')
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#alive()) await this.#file.flush()
  }

  firstIndex (): number {
    return this.#file.cache.compactedIndex + 1
  }

  lastIndex (): number {
    const state = this.#file.cache
    return state.compactedIndex + state.entries.length
  }

  term (index: number): number | undefined {
    const state = this.#file.cache
    if (index === state.compactedIndex) return state.compactedTerm
    return state.entries[index - state.compactedIndex - 1]?.term
  }

  async append (entries: readonly LogEntry[], options?: AbortOptions): Promise<void> {
    this.#check(options)
    const first = entries[0]
    if (first === undefined) return
    if (first.index > this.lastIndex() + 1) {
      throw new InvalidArgumentError(`append at ${first.index} leaves a gap after last index ${this.lastIndex()}`, { field: 'entries' })
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LogEntry
      if (entry.index !== first.index + i) {
        throw new InvalidArgumentError(`entries are not contiguous: ${entry.index} follows ${first.index + i - 1}`, { field: 'entries' })
      }
      if (!Number.isSafeInteger(entry.index) || entry.index < 1) {
        throw new InvalidArgumentError(`invalid entry index ${entry.index}`, { field: 'entries' })
      }
    }
    await this.#file.write({ type: 'append', entries: entries.map(copyEntry) })
  }

  async truncateSuffix (fromIndex: number, options?: AbortOptions): Promise<void> {
    this.#check(options)
    if (fromIndex <= this.#file.cache.compactedIndex) {
      throw new InvalidArgumentError(`cannot truncate from ${fromIndex}: entries up to ${this.#file.cache.compactedIndex} are compacted`, { field: 'fromIndex' })
    }
    await this.#file.write({ type: 'truncate', fromIndex })
  }

  async compactPrefix (upToIndex: number, term: number, options?: AbortOptions): Promise<void> {
    this.#check(options)
    await this.#file.write({ type: 'compact', upToIndex, term })
  }

  async entries (from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]> {
    this.#check(options)
    const state = this.#file.cache
    if (from < this.firstIndex()) throw new CompactedError(from, this.firstIndex())
    const end = Math.min(to, this.lastIndex() + 1)
    const result: LogEntry[] = []
    let bytes = 0
    for (let index = from; index < end; index++) {
      const entry = state.entries[index - state.compactedIndex - 1] as LogEntry
      if (result.length > 0 && options?.maxBytes !== undefined && bytes + entry.data.byteLength > options.maxBytes) break
      bytes += entry.data.byteLength
      result.push(copyEntry(entry))
    }
    return result
  }

  #check (options: AbortOptions | undefined): void {
    if (!this.#alive()) throw deadHandleError('log')
    if (!this.#started) throw new NotStartedError('log storage is not started')
    throwIfAborted(options?.signal)
  }
}
