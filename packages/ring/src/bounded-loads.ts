import { InvalidArgumentError } from '@synod/interfaces'
import type { NodeId } from '@synod/interfaces'
import type { RingKey } from './hash/murmur3.js'
import type { Ring } from './types.js'

/** Options of {@link createBoundedLoads}. */
export interface BoundedLoadsOptions {
  /**
   * Balance factor c >= 1: no node is given a unit of load that would take it above
   * ceil(c * (total load + 1) * weight / total weight). 1.25 is HAProxy's `hash-balance-factor 125`.
   * Smaller is more even, larger keeps more keys on their first choice.
   * @default 1.25
   */
  factor?: number
}

/** Options of {@link BoundedLoads.pick} and {@link BoundedLoads.acquire}. */
export interface BoundedPickOptions {
  /**
   * Only nodes for which this returns true may be chosen (e.g. endpoints that are healthy, or not
   * yet tried by this request). The capacity bound still counts every ring member.
   * @default every ring member is acceptable
   */
  accept?: (node: NodeId) => boolean
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing
 * with Bounded Loads", SODA 2018), as HAProxy's `hash-balance-factor` does it: a key goes to the
 * first node of its preference list whose load is below its capacity. Loads are units the caller
 * counts (in-flight requests, connections, sessions); the structure does not remember keys.
 *
 * Membership follows the ring: nodes added to or removed from it are seen by the next call. Load
 * still held on a removed node counts in the total until released.
 */
export interface BoundedLoads {
  /** The ring whose preference lists are walked. */
  readonly ring: Ring
  /** The balance factor c. */
  readonly factor: number
  /**
   * The node a unit of load for `key` should go to now: the first node of `key`'s preference list
   * with spare capacity. Does not change loads. Undefined when the ring is empty or no node is
   * accepted. If every accepted node is full (possible only with `accept`), the first accepted
   * node of the preference list.
   */
  pick (key: RingKey, options?: BoundedPickOptions): NodeId | undefined
  /** {@link BoundedLoads.pick} for a precomputed `ring.hash(key)`. */
  pickByHash (hash: number, options?: BoundedPickOptions): NodeId | undefined
  /** {@link BoundedLoads.pick}, then adds one unit of load to the chosen node. */
  acquire (key: RingKey, options?: BoundedPickOptions): NodeId | undefined
  /** {@link BoundedLoads.acquire} for a precomputed `ring.hash(key)`. */
  acquireByHash (hash: number, options?: BoundedPickOptions): NodeId | undefined
  /** Removes `amount` units of load from `node` (never below 0). */
  release (node: NodeId, amount?: number): void
  /** Sets the load of `node`, e.g. from a measured in-flight count. */
  setLoad (node: NodeId, load: number): void
  /** Current load of `node` (0 if unknown). */
  load (node: NodeId): number
  /** Sum of all loads held. */
  totalLoad (): number
  /**
   * The largest load `node` may reach by accepting one more unit now:
   * ceil(factor * (totalLoad + 1) * weight / total weight). 0 for a non-member.
   */
  capacity (node: NodeId): number
}

class BoundedLoadsImpl implements BoundedLoads {
  readonly ring: Ring
  readonly factor: number
  private readonly loads = new Map<NodeId, number>()
  private total = 0

  constructor (ring: Ring, factor: number) {
    this.ring = ring
    this.factor = factor
  }

  pick (key: RingKey, options?: BoundedPickOptions): NodeId | undefined {
    return this.pickByHash(this.ring.hash(key), options)
  }

  pickByHash (hash: number, options?: BoundedPickOptions): NodeId | undefined {
    const ring = this.ring
    const accept = options?.accept
    const primary = ring.getByHash(hash)
    if (primary === undefined) return undefined
    const totalWeight = this.totalWeight()
    if ((accept === undefined || accept(primary)) && this.hasRoom(primary, totalWeight)) return primary
    // Rare path: the owner is full or refused, walk the rest of the preference list.
    const candidates = ring.lookupByHash(hash, ring.size)
    let firstAccepted: NodeId | undefined
    for (const candidate of candidates) {
      if (accept !== undefined && !accept(candidate)) continue
      firstAccepted ??= candidate
      if (this.hasRoom(candidate, totalWeight)) return candidate
    }
    // Without `accept` this is unreachable for factor >= 1: capacities sum to at least
    // factor * (total + 1) > total, so some node has room.
    return firstAccepted
  }

  acquire (key: RingKey, options?: BoundedPickOptions): NodeId | undefined {
    return this.acquireByHash(this.ring.hash(key), options)
  }

  acquireByHash (hash: number, options?: BoundedPickOptions): NodeId | undefined {
    const node = this.pickByHash(hash, options)
    if (node !== undefined) this.setLoad(node, this.load(node) + 1)
    return node
  }

  release (node: NodeId, amount = 1): void {
    checkAmount(amount, 'amount')
    this.setLoad(node, Math.max(0, this.load(node) - amount))
  }

  setLoad (node: NodeId, load: number): void {
    checkAmount(load, 'load')
    this.total += load - this.load(node)
    if (load === 0) this.loads.delete(node)
    else this.loads.set(node, load)
  }

  load (node: NodeId): number {
    return this.loads.get(node) ?? 0
  }

  totalLoad (): number {
    return this.total
  }

  capacity (node: NodeId): number {
    const member = this.ring.node(node)
    if (member === undefined) return 0
    return this.capacityOf(member.weight, this.totalWeight())
  }

  private capacityOf (weight: number, totalWeight: number): number {
    return Math.ceil((this.factor * (this.total + 1) * weight) / totalWeight)
  }

  private hasRoom (node: NodeId, totalWeight: number): boolean {
    const weight = this.ring.node(node)!.weight
    return this.load(node) + 1 <= this.capacityOf(weight, totalWeight)
  }

  private totalWeight (): number {
    return this.ring.totalWeight
  }
}

function checkAmount (value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`${field} must be a non-negative integer, got ${value}`, { field })
}

/**
 * Wraps a ring with bounded-load lookups. Works over every algorithm: the walk follows
 * `ring.lookup`'s preference order (clockwise for the vnode ring, as in the paper).
 *
 * @example
 * ```ts
 * const balancer = createBoundedLoads(createVnodeRing({ nodes: ['a', 'b', 'c'] }), { factor: 1.25 })
 * const node = balancer.acquire('session-42') // route the request to `node`
 * // ... when the request completes:
 * if (node !== undefined) balancer.release(node)
 * ```
 */
export function createBoundedLoads (ring: Ring, options: BoundedLoadsOptions = {}): BoundedLoads {
  const factor = options.factor ?? 1.25
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new InvalidArgumentError(`factor must be a finite number >= 1, got ${String(factor)}`, { field: 'factor' })
  }
  return new BoundedLoadsImpl(ring, factor)
}
