import type { Random } from '@synod/interfaces'

/** A seeded generator (mulberry32), so backoff jitter and P2C choices replay. */
export function seeded (seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (max) => Math.floor(next() * max) }
}
