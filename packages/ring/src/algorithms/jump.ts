import { InvalidArgumentError } from '@synod/interfaces'
import { BaseRing } from '../core/base-ring.js'
import { nodeState } from '../core/nodes.js'
import { RendezvousScores } from '../core/rendezvous-scores.js'
import { fmix32 } from '../hash/murmur3.js'
import { jumpHash } from '../hash/jump.js'
import type { JumpRingState, ResolvedRingNode, Ring, RingCapabilities, RingInit } from '../types.js'

const CAPABILITIES: RingCapabilities = Object.freeze({ weights: false, minimalRemoveAny: false, ranges: false })

/** Jump needs a 64-bit key; its high half is derived from the 32-bit key hash. */
const HIGH_HALF_SEED = 0x6a756d70

class JumpRing extends BaseRing {
  readonly algorithm = 'jump'
  readonly capabilities = CAPABILITIES
  protected readonly insertionOrdered = true
  private replicaScores = new RendezvousScores([])

  constructor (init: RingInit) {
    super()
    this.initialise(init.nodes)
  }

  protected override validateMember (node: ResolvedRingNode): void {
    if (node.weight !== 1) throw new InvalidArgumentError('jump hash has no weights; use rendezvous or Maglev', { field: 'weight' })
  }

  /**
   * Buckets are numbered; only the last one can go without disturbing others. Removing another
   * node moves the last node into its bucket (Lamping and Veach §4), so both nodes' keys move.
   */
  protected override removeAt (index: number): void {
    const last = this.members.pop()!
    if (index < this.members.length) this.members[index] = last
  }

  protected rebuild (): void {
    this.replicaScores = new RendezvousScores(this.members)
  }

  protected primaryIndex (hash: number): number {
    return jumpHash(fmix32(hash ^ HIGH_HALF_SEED), hash, this.members.length)
  }

  /** The owner by jump, the replicas by rendezvous over the other nodes. */
  protected walk = (hash: number, visit: (index: number) => boolean): void => {
    this.replicaScores.walk(hash, visit, this.primaryIndex(hash))
  }

  protected emptyCopy (): JumpRing {
    return new JumpRing({})
  }

  toJSON (): JumpRingState {
    return { format: 1, algorithm: 'jump', nodes: this.members.map(nodeState) }
  }
}

/** Options of {@link createJumpRing}. */
export type JumpRingInit = RingInit

/**
 * Jump consistent hash (Lamping and Veach 2014): no memory beyond the node list, ideal balance,
 * minimal movement when adding a node or removing the most recently added one. No weights; node
 * order is bucket order, so it is part of the state. Replicas (`lookup(key, n)`) come from
 * rendezvous hashing over the other nodes.
 */
export function createJumpRing (init: JumpRingInit = {}): Ring {
  return new JumpRing(init)
}
