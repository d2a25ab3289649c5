import type { RangeQuery } from '@synod/interfaces'

/** True if `key` falls inside `query`'s bounds (limit aside). Keys compare as UTF-16 code units. */
export function inRange (key: string, query: RangeQuery): boolean {
  if (query.prefix !== undefined && !key.startsWith(query.prefix)) return false
  if (query.start !== undefined && key < query.start) return false
  if (query.end !== undefined && key >= query.end) return false
  return true
}

/** The smallest key the query can return. */
export function lowerBound (query: RangeQuery): string {
  const prefix = query.prefix ?? ''
  const start = query.start ?? ''
  return prefix > start ? prefix : start
}

/** True once `key` (visited in ascending order) is past every key the query can return. */
export function pastRange (key: string, query: RangeQuery): boolean {
  if (query.end !== undefined && key >= query.end) return true
  return query.prefix !== undefined && key > query.prefix && !key.startsWith(query.prefix)
}

export function compareKeys (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
