import { murmur3, murmur3Word } from '../hash/murmur3.js'
import type { ResolvedRingNode } from '../types.js'

/** Seed of the per-node hash that rendezvous scores mix with the key hash. */
const NODE_SEED = 0x52444857

/** 2^-32, exact in binary floating point. */
const TWO_POW_MINUS_32 = 2.3283064365386963e-10

/**
 * Weighted rendezvous (highest random weight) scores, logarithmic method (Schindelhauer and
 * Schomaker, "Weighted Distributed Hash Tables", 2005; as used by Resch, "New Hashing Algorithms
 * for Data Storage"): node i scores `-w_i / ln(u_i)`, u_i uniform in (0, 1) from the key and node.
 * The highest score owns the key. Each node's share is exactly w_i / Σw, and changing one node's
 * weight or membership only moves keys to or from that node.
 *
 * u_i comes from MurmurHash3 of the key hash seeded with the node's own hash.
 * We compare `ln(u_i) / w_i` (same order, no division by a negative). With equal weights the
 * order is that of the raw 32-bit values, so we skip the logarithm.
 */
export class RendezvousScores {
  private readonly seeds: Uint32Array
  private readonly inverseWeights: Float64Array
  private readonly uniform: boolean
  private readonly scratchScores: Float64Array
  private readonly visited: Uint8Array

  constructor (members: readonly ResolvedRingNode[]) {
    const count = members.length
    this.seeds = new Uint32Array(count)
    this.inverseWeights = new Float64Array(count)
    this.scratchScores = new Float64Array(count)
    this.visited = new Uint8Array(count)
    let uniform = true
    for (let i = 0; i < count; i++) {
      const member = members[i]!
      this.seeds[i] = murmur3(member.id, NODE_SEED)
      this.inverseWeights[i] = 1 / member.weight
      if (member.weight !== members[0]!.weight) uniform = false
    }
    this.uniform = uniform
  }

  /** Score of node `index` for a key hash; higher wins. */
  score (hash: number, index: number): number {
    const mixed = murmur3Word(hash, this.seeds[index]!)
    if (this.uniform) return mixed
    return Math.log((mixed + 0.5) * TWO_POW_MINUS_32) * this.inverseWeights[index]!
  }

  /** Index of the highest-scoring node (lowest index on a tie), or -1 when there are none. */
  best (hash: number): number {
    const count = this.seeds.length
    let bestIndex = -1
    let bestScore = -Infinity
    for (let i = 0; i < count; i++) {
      const score = this.score(hash, i)
      if (score > bestScore) {
        bestScore = score
        bestIndex = i
      }
    }
    return bestIndex
  }

  /**
   * Visits nodes in descending score order. When `first` is given it is visited first, then the
   * others by score: jump and Maglev choose the owner their own way and the replicas this way.
   */
  walk (hash: number, visit: (index: number) => boolean, first = -1): void {
    const count = this.seeds.length
    const scores = this.scratchScores
    const visited = this.visited
    visited.fill(0)
    for (let i = 0; i < count; i++) scores[i] = this.score(hash, i)
    let remaining = count
    if (first >= 0) {
      visited[first] = 1
      remaining--
      if (visit(first)) return
    }
    while (remaining > 0) {
      let bestIndex = -1
      let bestScore = -Infinity
      for (let i = 0; i < count; i++) {
        if (visited[i] === 0 && scores[i]! > bestScore) {
          bestScore = scores[i]!
          bestIndex = i
        }
      }
      visited[bestIndex] = 1
      remaining--
      if (visit(bestIndex)) return
    }
  }
}
