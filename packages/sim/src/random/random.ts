import { InvalidArgumentError, type Random } from '@synod/interfaces'

/**
 * The simulator's source of randomness: a `Random` that can also fork independent named streams.
 *
 * Every consumer (the network, the disk, each node, the nemesis, the workload's clients) draws from
 * its own stream, derived from the run's seed and the stream's name only. Adding a consumer, or
 * drawing more numbers in one stream, never shifts the numbers another stream produces, so a change
 * to one part of a workload does not reshuffle the faults the rest of the run sees.
 */
export interface SimRandom extends Random {
  /** The seed this stream was created from (for a fork: the run's root seed). */
  readonly seed: number
  /** The stream's name; `''` for the root stream. */
  readonly name: string
  /** A new, independent stream named `name` under this one. The same name always gives the same stream. */
  fork(name: string): SimRandom
  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number
  /** An integer uniformly distributed in [min, max] (both inclusive). */
  intBetween(min: number, max: number): number
  /** A float uniformly distributed in [min, max). */
  floatBetween(min: number, max: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
  /** A uniformly chosen element of `items`; throws ERR_INVALID_ARGUMENT when it is empty. */
  pick<T>(items: readonly T[]): T
  /** A new array with the elements of `items` in uniformly random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[]
}

const TWO_POW_32 = 0x1_0000_0000

/** splitmix32 (a 32-bit SplitMix variant): turns any seed into well-mixed state words. */
function splitmix32 (state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0
  let z = state.value
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
  return (z ^ (z >>> 15)) >>> 0
}

/** FNV-1a over the UTF-16 code units of `text`, so a stream name becomes a 32-bit salt. */
function hashName (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  }
  return hash >>> 0
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** Checks that `seed` is a safe non-negative integer: seeds are printed and typed back in by people. */
export function assertSeed (seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(`seed must be a non-negative safe integer, got ${seed}`, { field: 'seed' })
  }
}

/**
 * xoshiro128** (Blackman and Vigna, 2018): 128 bits of state, period 2^128 - 1, fast on 32-bit
 * integer arithmetic, which is what JavaScript does well. Seeded through splitmix32 as its
 * authors recommend, so nearby seeds give unrelated streams.
 */
class Xoshiro128StarStar implements SimRandom {
  readonly seed: number
  readonly name: string
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  constructor (seed: number, name: string, words?: readonly [number, number, number, number]) {
    this.seed = seed
    this.name = name
    if (words !== undefined) {
      [this.#s0, this.#s1, this.#s2, this.#s3] = words
      return
    }
    const low = seed >>> 0
    const high = Math.floor(seed / TWO_POW_32) >>> 0
    const state = { value: (low ^ Math.imul(high, 0x85ebca6b) ^ hashName(name)) | 0 }
    // Mix the high word in a second time so seeds that differ only above bit 32 still differ.
    state.value = (splitmix32(state) ^ high) | 0
    this.#s0 = splitmix32(state)
    this.#s1 = splitmix32(state)
    this.#s2 = splitmix32(state)
    this.#s3 = splitmix32(state)
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1
  }

  uint32 (): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0
    const t = this.#s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= this.#s1
    this.#s1 ^= this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result
  }

  next (): number {
    // 53 random bits, the full precision of a double.
    const high = this.uint32() >>> 5
    const low = this.uint32() >>> 6
    return (high * 67108864 + low) / 9007199254740992
  }

  int (maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new InvalidArgumentError(`int() needs a positive integer bound, got ${maxExclusive}`, { field: 'maxExclusive' })
    }
    if (maxExclusive <= TWO_POW_32) {
      // Rejection sampling removes the modulo bias.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive)
      let value = this.uint32()
      while (value >= limit) value = this.uint32()
      return value % maxExclusive
    }
    return Math.floor(this.next() * maxExclusive)
  }

  intBetween (min: number, max: number): number {
    if (max < min) throw new InvalidArgumentError(`intBetween(${min}, ${max}): max is below min`)
    return min + this.int(max - min + 1)
  }

  floatBetween (min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  chance (p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new InvalidArgumentError('pick() from an empty array')
    return items[this.int(items.length)] as T
  }

  shuffle<T>(items: readonly T[]): T[] {
    const result = items.slice()
    for (let i = result.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const swap = result[i] as T
      result[i] = result[j] as T
      result[j] = swap
    }
    return result
  }

  fork (name: string): SimRandom {
    return new Xoshiro128StarStar(this.seed, this.name === '' ? name : `${this.name}/${name}`)
  }
}

/** A generator started from raw state words; only for checking the generator against reference vectors. */
export function xoshiro128FromState (state: readonly [number, number, number, number]): SimRandom {
  return new Xoshiro128StarStar(0, 'raw', state)
}

/**
 * Creates the root random stream of a run from `seed` (a non-negative safe integer).
 *
 * @example
 * ```ts
 * const random = createRandom(42)
 * const network = random.fork('network') // unaffected by draws from any other stream
 * network.int(10)
 * ```
 */
export function createRandom (seed: number): SimRandom {
  assertSeed(seed)
  return new Xoshiro128StarStar(seed, '')
}
