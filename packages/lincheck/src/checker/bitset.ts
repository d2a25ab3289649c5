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

  has (bit: number): boolean {
    return (this.words[bit >>> 5]! & (1 << (bit & 31))) !== 0
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
 *
 * The linearized set is kept in two parts: `completed` (operations with a known outcome) and
 * `unknown` (operations that timed out). A configuration is also pruned when it is dominated: same
 * state, same completed part, and a superset of the unknown part of one already explored. Having
 * applied an extra timed-out operation never opens a way forward, since it may always be left out,
 * so without this rule every timed-out write absorbed by a later write would double the space.
 */
export class Memo {
  // Keyed by state first: most states are reached with a single linearized set, so the common case
  // is one small array, not a second map.
  private readonly byState = new Map<string, Array<{ hash: number, completed: Uint32Array, unknown: Uint32Array[] }>>()
  size = 0

  /** Records the configuration; false when it, or one that dominates it, was already there. */
  add (completed: Bitset, unknown: Uint32Array, stateKey: string): boolean {
    let entries = this.byState.get(stateKey)
    if (entries === undefined) {
      entries = []
      this.byState.set(stateKey, entries)
    }
    let entry
    for (const candidate of entries) {
      if (candidate.hash === completed.hash && completed.equals(candidate.completed)) {
        entry = candidate
        break
      }
    }
    if (entry === undefined) {
      entries.push({ hash: completed.hash, completed: completed.words.slice(), unknown: [unknown.slice()] })
    } else {
      if (entry.unknown.some((seen) => isSubset(seen, unknown))) return false
      // Entries the new one dominates can go: anything they would prune, it prunes too.
      entry.unknown = entry.unknown.filter((seen) => !isSubset(unknown, seen))
      entry.unknown.push(unknown.slice())
    }
    this.size++
    return true
  }
}

function isSubset (small: Uint32Array, large: Uint32Array): boolean {
  for (let i = 0; i < small.length; i++) {
    if ((small[i]! & ~large[i]!) !== 0) return false
  }
  return true
}
