/**
 * The set of operations linearized so far, as bits, with a Zobrist hash kept up to date on every
 * change (XOR of one fixed random word per member), so memo lookups never rehash the whole set.
 */
export class Bitset {
  readonly words: Uint32Array
  hash = 0
  private readonly zobrist: Int32Array

  constructor (size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
    this.zobrist = new Int32Array(size)
    // A fixed xorshift sequence: the hash only spreads buckets, so it needs no real randomness,
    // and a fixed seed keeps the search (and its step counts) reproducible.
    let seed = 0x9e3779b9 | 0
    for (let i = 0; i < size; i++) {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      this.zobrist[i] = seed
    }
  }

  set (bit: number): void {
    this.words[bit >>> 5]! |= 1 << (bit & 31)
    this.hash ^= this.zobrist[bit]!
  }

  clear (bit: number): void {
    this.words[bit >>> 5]! &= ~(1 << (bit & 31))
    this.hash ^= this.zobrist[bit]!
  }

  equals (words: Uint32Array): boolean {
    const own = this.words
    for (let i = 0; i < own.length; i++) {
      if (own[i] !== words[i]) return false
    }
    return true
  }
}

/**
 * Configurations already explored: (linearized set, model state). Reaching one again cannot lead
 * anywhere new, which is what makes the Wing-Gong search practical (Lowe 2017, §3; Porcupine).
 */
export class Memo {
  private readonly byState = new Map<string, Map<number, Uint32Array[]>>()
  size = 0

  /** Records the configuration; false when it was already there. */
  add (linearized: Bitset, stateKey: string): boolean {
    let byHash = this.byState.get(stateKey)
    if (byHash === undefined) {
      byHash = new Map()
      this.byState.set(stateKey, byHash)
    }
    const bucket = byHash.get(linearized.hash)
    if (bucket === undefined) {
      byHash.set(linearized.hash, [linearized.words.slice()])
    } else {
      for (const words of bucket) {
        if (linearized.equals(words)) return false
      }
      bucket.push(linearized.words.slice())
    }
    this.size++
    return true
  }
}
