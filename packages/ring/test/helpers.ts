import type { Ring, RingNode } from '../src/index.js'

/** Deterministic keys: a fixed pseudo-random sequence (mulberry32), no Math.random(). */
export function seededKeys (count: number, seed: number): string[] {
  let state = seed >>> 0
  const keys: string[] = []
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    keys.push(`key:${((t ^ (t >>> 14)) >>> 0).toString(36)}:${i}`)
  }
  return keys
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

/** Deterministic Fisher-Yates shuffle driven by a seed. */
export function shuffled<T> (items: readonly T[], seed: number): T[] {
  const copy = items.slice()
  let state = seed >>> 0
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    const j = state % (i + 1)
    const tmp = copy[i]!
    copy[i] = copy[j]!
    copy[j] = tmp
  }
  return copy
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
