/**
 * Randomness, injected. A seeded implementation makes a run reproducible; nothing in a Synod core
 * calls `Math.random()`.
 */
export interface Random {
  /** A float uniformly distributed in [0, 1). */
  next(): number
  /** An integer uniformly distributed in [0, maxExclusive). */
  int(maxExclusive: number): number
}
