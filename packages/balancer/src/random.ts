import type { Random } from '@synod/interfaces'

/**
 * A seeded `Random` (sfc32, Chris Doty-Humphrey's Small Fast Counting generator, seeded through
 * splitmix32). Fast, 128 bits of state, and the same seed always gives the same sequence, which is
 * what makes a simulation replay exactly.
 */
export function createSeededRandom (seed: number): Random {
  return new Sfc32(seed >>> 0)
}

// A class with numeric fields rather than a closure: V8 keeps the state in the object instead of a
// context, which makes `next()` several times faster on the pick path.
class Sfc32 implements Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    let s = seed
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = splitmix()
    this.b = splitmix()
    this.c = splitmix()
    this.d = splitmix()
    // Discard the first outputs: sfc32 needs a few rounds to mix a weak seed.
    for (let i = 0; i < 12; i++) this.next32()
  }

  next (): number {
    return this.next32() / 4294967296
  }

  int (maxExclusive: number): number {
    return Math.floor((this.next32() / 4294967296) * maxExclusive)
  }

  private next32 (): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }
}

/** A `Random` seeded from the platform's cryptographic generator: the default outside simulations. */
export function createEntropyRandom (): Random {
  const seed = new Uint32Array(1)
  globalThis.crypto.getRandomValues(seed)
  return createSeededRandom(seed[0] ?? 0)
}
