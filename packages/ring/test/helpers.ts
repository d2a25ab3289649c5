import { createRandom } from '@synod/sim'
import type { Ring, RingNode } from '../src/index.js'

/** Deterministic keys drawn from a seeded stream (no Math.random()), shaped like real ones. */
export function seededKeys (count: number, seed: number): string[] {
  const random = createRandom(seed)
  return Array.from({ length: count }, (_, i) => `key:${random.uint32().toString(36)}:${i}`)
}

/** Owner of every key. */
export function owners (ring: Ring, keys: readonly string[]): Array<string | undefined> {
  return keys.map(key => ring.get(key))
}

/** Keys per node over `keys`, as peak / mean. */
export function peakToMean (ring: Ring, keys: readonly string[]): number {
  const counts = new Map<string, number>()
  for (const key of keys) {
    const owner = ring.get(key)!
    counts.set(owner, (counts.get(owner) ?? 0) + 1)
  }
  let totalWeight = 0
  for (const node of ring.nodes()) totalWeight += node.weight
  let peak = 0
  for (const node of ring.nodes()) {
    const expected = keys.length * node.weight / totalWeight
    peak = Math.max(peak, (counts.get(node.id) ?? 0) / expected)
  }
  return peak
}

/** A deterministic Fisher-Yates shuffle driven by a seed. */
export function shuffled<T> (items: readonly T[], seed: number): T[] {
  return createRandom(seed).shuffle(items)
}

export const nodeIds = (count: number, prefix = 'node-'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

export type NodeInput = RingNode | string

/** The range of a sorted, non-overlapping list that contains `hash`, by binary search. */
export function findRange<R extends { start: number, end: number }> (ranges: readonly R[], hash: number): R | undefined {
  let low = 0
  let high = ranges.length - 1
  while (low <= high) {
    const middle = (low + high) >> 1
    const range = ranges[middle]!
    if (hash < range.start) high = middle - 1
    else if (hash >= range.end) low = middle + 1
    else return range
  }
  return undefined
}
