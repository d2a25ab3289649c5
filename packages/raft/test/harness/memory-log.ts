import type { LogEntry } from '@synod/interfaces'
import type { LogMetadata } from '../../src/core/index.js'

/** A synchronous in-memory durable log for driving cores in tests (etcd's MemoryStorage). */
export class MemoryLog implements LogMetadata {
  compactedIndex = 0
  compactedTerm = 0
  entries: LogEntry[] = []

  static withTerms (terms: readonly number[]): MemoryLog {
    const log = new MemoryLog()
    log.entries = terms.map((term, i) => ({ index: i + 1, term, type: 'command' as const, data: new Uint8Array([i + 1]) }))
    return log
  }

  firstIndex (): number { return this.compactedIndex + 1 }
  lastIndex (): number { return this.compactedIndex + this.entries.length }
  term (index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm
    return this.entries[index - this.compactedIndex - 1]?.term
  }

  append (entries: readonly LogEntry[]): void {
    const first = entries[0]
    if (first === undefined) return
    if (first.index > this.lastIndex() + 1) throw new Error(`gap: appending ${first.index} after ${this.lastIndex()}`)
    this.entries.length = Math.max(0, first.index - this.compactedIndex - 1)
    for (const entry of entries) this.entries.push(entry)
  }

  slice (from: number, to: number): LogEntry[] {
    if (from <= this.compactedIndex) {
      throw Object.assign(new Error('compacted'), { code: 'ERR_COMPACTED' })
    }
    return this.entries.slice(from - this.compactedIndex - 1, to - this.compactedIndex - 1)
  }

  compact (index: number, term: number): void {
    if (index <= this.compactedIndex) return
    const drop = index - this.compactedIndex
    this.entries.splice(0, Math.min(drop, this.entries.length))
    this.compactedIndex = index
    this.compactedTerm = term
  }

  /** Empties the log and restarts it after a snapshot. */
  reset (index: number, term: number): void {
    this.entries = []
    this.compactedIndex = index
    this.compactedTerm = term
  }

  terms (): number[] {
    return this.entries.map((e) => e.term)
  }
}
