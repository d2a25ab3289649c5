import { BaseRing } from '../core/base-ring.js'
import { nodeState } from '../core/nodes.js'
import { RendezvousScores } from '../core/rendezvous-scores.js'
import type { RendezvousRingState, Ring, RingCapabilities, RingInit } from '../types.js'

const CAPABILITIES: RingCapabilities = Object.freeze({ weights: true, minimalRemoveAny: true, ranges: false })

class RendezvousRing extends BaseRing {
  readonly algorithm = 'rendezvous'
  readonly capabilities = CAPABILITIES
  protected readonly insertionOrdered = false
  private scores = new RendezvousScores([])

  constructor (init: RingInit) {
    super()
    this.initialise(init.nodes)
  }

  protected rebuild (): void {
    this.scores = new RendezvousScores(this.members)
  }

  protected primaryIndex (hash: number): number {
    return this.scores.best(hash)
  }

  protected walk = (hash: number, visit: (index: number) => boolean): void => {
    this.scores.walk(hash, visit)
  }

  protected emptyCopy (): RendezvousRing {
    return new RendezvousRing({})
  }

  toJSON (): RendezvousRingState {
    return { format: 1, algorithm: 'rendezvous', nodes: this.members.map(nodeState) }
  }
}

/** Options of {@link createRendezvousRing}. */
export type RendezvousRingInit = RingInit

/**
 * Weighted rendezvous (highest random weight) hashing, logarithmic method. Exact weighted shares,
 * no tables, minimal movement on every change; a lookup costs O(nodes), so it suits tens of nodes.
 */
export function createRendezvousRing (init: RendezvousRingInit = {}): Ring {
  return new RendezvousRing(init)
}
