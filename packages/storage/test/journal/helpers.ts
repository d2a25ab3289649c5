import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogEntry, LogStorage } from '@synod/interfaces'

/** Entries `from..from+count-1` of `group` in `term`, each payload naming group, index and term. */
export function groupEntries (group: number, from: number, count: number, term = 1, bytes = 40): LogEntry[] {
  return Array.from({ length: count }, (_, i) => ({ index: from + i, term, type: 'command' as const, data: payload(group, from + i, term, bytes) }))
}

export function payload (group: number, index: number, term: number, bytes = 40): Uint8Array {
  const data = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) data[i] = (group * 131 + index * 31 + term * 7 + i) & 0xff
  return data
}

export async function segmentFiles (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('journal-')).sort().map((name) => join(dir, name))
}

/** Every entry of a log as `index:term:hex` strings, for compact comparisons. */
export async function dump (log: LogStorage): Promise<string[]> {
  const all = await log.entries(log.firstIndex(), log.lastIndex() + 1)
  return all.map((entry) => `${entry.index}:${entry.term}:${Buffer.from(entry.data).toString('hex')}`)
}

export function describeEntries (entries: readonly LogEntry[]): string[] {
  return entries.map((entry) => `${entry.index}:${entry.term}:${Buffer.from(entry.data).toString('hex')}`)
}
