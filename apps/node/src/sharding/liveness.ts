import type { NodeId } from '@synod/interfaces'

/**
 * Node-level failure detection: one verdict per peer node, shared by every group the two nodes
 * have in common. Any envelope from a peer (group traffic or the node heartbeat) counts as a sign
 * of life, so an idle node pair costs one heartbeat per interval in each direction, whatever the
 * number of groups.
 */
export class NodeLiveness {
  readonly #timeoutMs: number
  readonly #lastHeard = new Map<NodeId, number>()
  readonly #dead = new Set<NodeId>()

  constructor (timeoutMs: number) {
    this.#timeoutMs = timeoutMs
  }

  /** Starts tracking `peer`; it gets a full timeout of grace from `now`. */
  track (peer: NodeId, now: number): void {
    if (!this.#lastHeard.has(peer)) this.#lastHeard.set(peer, now)
  }

  /** Stops tracking `peer` (it left the cluster). */
  untrack (peer: NodeId): void {
    this.#lastHeard.delete(peer)
    this.#dead.delete(peer)
  }

  heard (peer: NodeId, now: number): void {
    this.#lastHeard.set(peer, now)
  }

  isLive (peer: NodeId): boolean {
    return !this.#dead.has(peer)
  }

  /** Re-evaluates every peer: which ones just died, which ones came back. */
  check (now: number): { died: NodeId[], revived: NodeId[] } {
    const died: NodeId[] = []
    const revived: NodeId[] = []
    for (const [peer, heard] of this.#lastHeard) {
      const dead = now - heard > this.#timeoutMs
      if (dead && !this.#dead.has(peer)) {
        this.#dead.add(peer)
        died.push(peer)
      } else if (!dead && this.#dead.delete(peer)) {
        revived.push(peer)
      }
    }
    return { died, revived }
  }

  peers (): NodeId[] {
    return [...this.#lastHeard.keys()]
  }
}
