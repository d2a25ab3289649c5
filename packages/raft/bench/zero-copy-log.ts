import { CompactedError } from '@synod/interfaces'
import type { LogEntry, LogStorage } from '@synod/interfaces'

/**
 * BENCHMARK ONLY: a LogStorage that keeps the caller's entry objects instead of copying them (the
 * real memory storage copies every entry in and out so callers cannot alias its state). It shows
 * what the Raft driver costs without the storage's copies; the rows that use it say so.
 */
export function createZeroCopyLogStorage (): LogStorage {
  let compactedIndex = 0
  let compactedTerm = 0
  // Entries live in `log[head..]`; the dead prefix is dropped once it is most of the array.
  let log: LogEntry[] = []
  let head = 0
  const lastIndex = (): number => compactedIndex + log.length - head
  return {
    async start () {},
    async stop () {},
    firstIndex: () => compactedIndex + 1,
    lastIndex,
    term (index) {
      if (index === compactedIndex) return compactedTerm
      if (index < compactedIndex) return undefined
      return log[head + index - compactedIndex - 1]?.term
    },
    async append (entries) {
      const first = entries[0]
      if (first === undefined) return
      if (first.index > lastIndex() + 1) throw new Error(`gap before ${first.index}`)
      if (first.index <= compactedIndex) throw new CompactedError(first.index, compactedIndex + 1)
      log.length = head + first.index - compactedIndex - 1
      for (const entry of entries) log.push(entry)
    },
    async truncateSuffix (fromIndex) {
      if (fromIndex <= lastIndex()) log.length = head + Math.max(0, fromIndex - compactedIndex - 1)
    },
    async compactPrefix (upToIndex, term) {
      if (upToIndex <= compactedIndex) return
      if (upToIndex >= lastIndex()) {
        log = []
        head = 0
      } else {
        head += upToIndex - compactedIndex
        if (head > 4096 && head * 2 > log.length) { log = log.slice(head); head = 0 }
      }
      compactedIndex = upToIndex
      compactedTerm = term
    },
    async entries (from, to, options = {}) {
      if (from <= compactedIndex) throw new CompactedError(from, compactedIndex + 1)
      const out: LogEntry[] = []
      const maxBytes = options.maxBytes ?? Infinity
      let bytes = 0
      const end = Math.min(to, lastIndex() + 1)
      for (let index = from; index < end; index++) {
        const entry = log[head + index - compactedIndex - 1]!
        bytes += entry.data.byteLength
        if (out.length > 0 && bytes > maxBytes) break
        out.push(entry)
      }
      return out
    }
  }
}
