import { CompactedError, throwIfAborted, type AbortOptions, type LogEntry, type LogStorage } from '@synod/interfaces'
import { raceAbort } from '../util/abort.js'
import { Lifecycle } from '../util/lifecycle.js'
import { validateAppend, validateIndex } from '../util/validate.js'

/**
 * A LogStorage kept in memory (etcd's `MemoryStorage`): for tests and the simulator. Survives
 * `stop()`/`start()` of the same instance, nothing else. Entries are copied on the way in and out,
 * so callers cannot alias its state.
 */
export function createMemoryLogStorage (): LogStorage {
  return new MemoryLogStorage()
}

class MemoryLogStorage implements LogStorage {
  private readonly lifecycle = new Lifecycle('memory log storage')
  private compactedIndex = 0
  private compactedTerm = 0
  private log: LogEntry[] = []

  async start (): Promise<void> { this.lifecycle.started = true }
  async stop (): Promise<void> { this.lifecycle.started = false }

  firstIndex (): number { return this.compactedIndex + 1 }
  lastIndex (): number { return this.compactedIndex + this.log.length }

  term (index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm
    return this.log[index - this.compactedIndex - 1]?.term
  }

  async append (entries: readonly LogEntry[], options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      validateAppend(entries, this.compactedIndex, this.lastIndex())
      const first = entries[0]
      if (first === undefined) return
      this.log.length = first.index - this.compactedIndex - 1
      for (const entry of entries) this.log.push(copyEntry(entry))
    })
  }

  async truncateSuffix (fromIndex: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      validateIndex(fromIndex, 'fromIndex')
      if (fromIndex <= this.compactedIndex) throw new CompactedError(fromIndex, this.firstIndex())
      if (fromIndex <= this.lastIndex()) this.log.length = fromIndex - this.compactedIndex - 1
    })
  }

  async compactPrefix (upToIndex: number, term: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      validateIndex(upToIndex, 'upToIndex')
      if (upToIndex <= this.compactedIndex) return
      this.log = upToIndex >= this.lastIndex() ? [] : this.log.slice(upToIndex - this.compactedIndex)
      this.compactedIndex = upToIndex
      this.compactedTerm = term
    })
  }

  async entries (from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    if (from < this.firstIndex()) throw new CompactedError(from, this.firstIndex())
    const result: LogEntry[] = []
    const maxBytes = options?.maxBytes ?? Infinity
    let bytes = 0
    const end = Math.min(to, this.lastIndex() + 1)
    for (let index = from; index < end; index++) {
      const entry = this.log[index - this.compactedIndex - 1] as LogEntry
      bytes += entry.data.byteLength
      if (result.length > 0 && bytes > maxBytes) break
      result.push(copyEntry(entry))
    }
    return result
  }
}

function copyEntry (entry: LogEntry): LogEntry {
  return { index: entry.index, term: entry.term, type: entry.type, data: new Uint8Array(entry.data) }
}
