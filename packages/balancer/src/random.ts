import type { Random } from '@synod/interfaces'

/**
 * A seeded `Random` (sfc32, Chris Doty-Humphrey's Small Fast Counting generator, seeded through
 * splitmix32). Fast, 128 bits of state, and the same seed always gives the same sequence, which is
 * what makes a simulation replay exactly.
 */
export function createSeededRandom (seed: number): Random {
  let s = seed >>> 0
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  // Discard the first outputs: sfc32 needs a few rounds to mix a weak seed.
  for (let i = 0; i < 12; i++) next32()
  return {
    next: () => next32() / 4294967296,
    int: (maxExclusive: number) => Math.floor((next32() / 4294967296) * maxExclusive)
  }
}

/** A `Random` seeded from the platform's cryptographic generator: the default outside simulations. */
export function createEntropyRandom (): Random {
  const seed = new Uint32Array(1)
  globalThis.crypto.getRandomValues(seed)
  return createSeededRandom(seed[0] ?? 0)
}
