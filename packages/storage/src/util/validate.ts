import { CompactedError, InvalidArgumentError, type LogEntry } from '@synod/interfaces'

/** Checks an append against the log's bounds (shared by every LogStorage implementation). */
export function validateAppend (entries: readonly LogEntry[], compactedIndex: number, lastIndex: number): void {
  const first = entries[0]
  if (first === undefined) return
  if (!Number.isSafeInteger(first.index) || first.index < 1) {
    throw new InvalidArgumentError(`entry index ${first.index} is not a positive integer`, { field: 'index' })
  }
  if (first.index > lastIndex + 1) {
    throw new InvalidArgumentError(`append at ${first.index} leaves a gap after last index ${lastIndex}`, { field: 'index' })
  }
  if (first.index <= compactedIndex) throw new CompactedError(first.index, compactedIndex + 1)
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as LogEntry
    if (entry.index !== first.index + i) {
      throw new InvalidArgumentError(`batch is not contiguous at position ${i} (index ${entry.index})`, { field: 'index' })
    }
    if (!Number.isSafeInteger(entry.term) || entry.term < 0) {
      throw new InvalidArgumentError(`entry ${entry.index} has invalid term ${entry.term}`, { field: 'term' })
    }
    if (entry.type !== 'command' && entry.type !== 'noop' && entry.type !== 'config') {
      throw new InvalidArgumentError(`entry ${entry.index} has unknown type ${String(entry.type)}`, { field: 'type' })
    }
  }
}

/** Checks an index argument is a non-negative safe integer. */
export function validateIndex (value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer, got ${value}`, { field })
  }
}
