import { CompactedError } from '@synod/interfaces'
import type { LogEntry, LogStorage } from '@synod/interfaces'

/**
 * BENCHMARK BASELINE: the memory LogStorage as it was before its entry bytes moved into shared
 * arenas: every entry copied into a `Uint8Array` of its own on the way in (and out), entries in one
 * array. The rows that use it show what the arena layout of `createMemoryLogStorage()` bought.
 */
export function createPerEntryCopyLogStorage (): LogStorage {
  let compactedIndex = 0
  let compactedTerm = 0
  let log: LogEntry[] = []
  const lastIndex = (): number => compactedIndex + log.length
  const copy = (entry: LogEntry): LogEntry => ({ index: entry.index, term: entry.term, type: entry.type, data: new Uint8Array(entry.data) })
  return {
    async start () {},
    async stop () {},
    firstIndex: () => compactedIndex + 1,
    lastIndex,
    term (index) {
      if (index === compactedIndex) return compactedTerm
      return log[index - compactedIndex - 1]?.term
    },
    async append (entries) {
      const first = entries[0]
      if (first === undefined) return
      if (first.index > lastIndex() + 1) throw new Error(`gap before ${first.index}`)
      if (first.index <= compactedIndex) throw new CompactedError(first.index, compactedIndex + 1)
      log.length = first.index - compactedIndex - 1
      for (const entry of entries) log.push(copy(entry))
    },
    async truncateSuffix (fromIndex) {
      if (fromIndex <= lastIndex()) log.length = Math.max(0, fromIndex - compactedIndex - 1)
    },
    async compactPrefix (upToIndex, term) {
      if (upToIndex <= compactedIndex) return
      log = upToIndex >= lastIndex() ? [] : log.slice(upToIndex - compactedIndex)
      compactedIndex = upToIndex
      compactedTerm = term
    },
    async entries (from, to, options = {}) {
      if (from <= compactedIndex) throw new CompactedError(from, compactedIndex + 1)
      const out: LogEntry[] = []
      const maxBytes = options.maxBytes ?? Infinity
      let bytes = 0
      for (let index = from; index < Math.min(to, lastIndex() + 1); index++) {
        const entry = log[index - compactedIndex - 1]!
        bytes += entry.data.byteLength
        if (out.length > 0 && bytes > maxBytes) break
        out.push(copy(entry))
      }
      return out
    }
  }
}
