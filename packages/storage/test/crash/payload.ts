import type { LogEntry, LogStorage } from '@synod/interfaces'

/** The deterministic payload of entry `index` written in `term`, so a reader can verify every byte. */
export function crashPayload (index: number, term: number): Uint8Array {
  const data = new Uint8Array(16 + (index % 48))
  for (let i = 0; i < data.length; i++) data[i] = (Math.imul(index, 2654435761) + term * 97 + i) & 0xff
  return data
}

/**
 * The first thing wrong with `entries`, read back from `log` after a crash in `term`: indexes not
 * consecutive from the log's first index, terms not rising or above `term`, the log's term index
 * disagreeing, or a payload other than `payload(index, term)`. One expect per entry would dominate
 * a crash test's run time, so this collects the first problem instead.
 */
export function firstRecoveryProblem (
  log: Pick<LogStorage, 'firstIndex' | 'term'>, entries: LogEntry[], term: number, payload: (index: number, term: number) => Uint8Array
): string | undefined {
  let previousTerm = 0
  for (const [position, entry] of entries.entries()) {
    if (entry.index !== log.firstIndex() + position) return `entry ${entry.index} at position ${position}`
    if (entry.term > term || entry.term < previousTerm) return `entry ${entry.index} has term ${entry.term} after ${previousTerm}`
    if (entry.term !== log.term(entry.index)) return `term index disagrees at ${entry.index}`
    if (!Buffer.from(entry.data).equals(Buffer.from(payload(entry.index, entry.term)))) return `entry ${entry.index} payload differs`
    previousTerm = entry.term
  }
  return undefined
}
