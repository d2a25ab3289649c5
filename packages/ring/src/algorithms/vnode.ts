import { InvalidArgumentError } from '@synod/interfaces'
import { BaseRing } from '../core/base-ring.js'
import { nodeState } from '../core/nodes.js'
import { md5 } from '../hash/md5.js'
import type { RingKey } from '../hash/murmur3.js'
import { murmur3 } from '../hash/murmur3.js'
import type { KetamaRingState, KeyHashName, Ring, RingCapabilities, RingInit, VnodeRingState } from '../types.js'

const CAPABILITIES: RingCapabilities = Object.freeze({ weights: true, minimalRemoveAny: true, ranges: true })
const TWO_POW_32 = 4294967296
/** Packing (position, sequence) into one double is exact while sequence < 2^21. */
const PACK_LIMIT = 2097152

/** Sorted ring points: `positions[k]` is owned by `owners[k]` (a member index). */
interface Continuum {
  positions: Uint32Array
  owners: Int32Array
  /** `bucketStart[b]` = first point index with position >= b << shift; one extra entry at the end. */
  bucketStart: Uint32Array
  shift: number
}

const EMPTY: Continuum = { positions: new Uint32Array(0), owners: new Int32Array(0), bucketStart: new Uint32Array(2), shift: 31 }

/**
 * Sorts points by position; equal positions keep generation order (member order, then point
 * index), which is how a stable sort in `hashring` breaks ties.
 */
function buildContinuum (positions: number[], owners: number[]): Continuum {
  const count = positions.length
  if (count === 0) return EMPTY
  let order: ArrayLike<number>
  if (count < PACK_LIMIT) {
    const packed = new Float64Array(count)
    for (let i = 0; i < count; i++) packed[i] = positions[i]! * PACK_LIMIT + i
    packed.sort()
    order = Uint32Array.from(packed, value => value % PACK_LIMIT)
  } else {
    order = Array.from({ length: count }, (_, i) => i).sort((a, b) => (positions[a]! - positions[b]!) || (a - b))
  }
  const sortedPositions = new Uint32Array(count)
  const sortedOwners = new Int32Array(count)
  for (let k = 0; k < count; k++) {
    sortedPositions[k] = positions[order[k]!]!
    sortedOwners[k] = owners[order[k]!]!
  }
  // A direct-mapped index over the top bits makes a lookup O(1) expected instead of a binary search.
  const bits = Math.min(20, Math.max(1, Math.ceil(Math.log2(count))))
  const shift = 32 - bits
  const buckets = 1 << bits
  const bucketStart = new Uint32Array(buckets + 1)
  let k = 0
  for (let b = 0; b < buckets; b++) {
    const bucketFloor = b * 2 ** shift
    while (k < count && sortedPositions[k]! < bucketFloor) k++
    bucketStart[b] = k
  }
  bucketStart[buckets] = count
  return { positions: sortedPositions, owners: sortedOwners, bucketStart, shift }
}

/** Index of the first point at or after `hash`, wrapping to 0 (ketama's rule). */
function findPoint (continuum: Continuum, hash: number): number {
  const positions = continuum.positions
  const bucket = hash >>> continuum.shift
  let k = continuum.bucketStart[bucket]!
  const end = continuum.bucketStart[bucket + 1]!
  while (k < end && positions[k]! < hash) k++
  return k === positions.length ? 0 : k
}

abstract class ContinuumRing extends BaseRing {
  protected continuum = EMPTY
  private seenStamp = new Uint32Array(0)
  private stamp = 0

  protected abstract points (): { positions: number[], owners: number[] }

  protected rebuild (): void {
    const { positions, owners } = this.points()
    this.continuum = buildContinuum(positions, owners)
    this.seenStamp = new Uint32Array(this.members.length)
    this.stamp = 0
  }

  protected primaryIndex (hash: number): number {
    const continuum = this.continuum
    if (continuum.positions.length === 0) return -1
    return continuum.owners[findPoint(continuum, hash)]!
  }

  /** Clockwise from the key's point, each node the first time one of its points is met (Dynamo §4.3). */
  protected walk = (hash: number, visit: (index: number) => boolean): void => {
    const { positions, owners } = this.continuum
    const count = positions.length
    if (count === 0) return
    if (++this.stamp === 0xffffffff) {
      this.seenStamp.fill(0)
      this.stamp = 1
    }
    const stamp = this.stamp
    const seen = this.seenStamp
    let remaining = this.members.length
    let k = findPoint(this.continuum, hash)
    for (let steps = 0; steps < count && remaining > 0; steps++) {
      const owner = owners[k]!
      if (seen[owner] !== stamp) {
        seen[owner] = stamp
        remaining--
        if (visit(owner)) return
      }
      k = k + 1 === count ? 0 : k + 1
    }
  }

  /** A key hashing to h belongs to the first point >= h, so point k owns (previous point, k]. */
  protected override forEachSegment (visit: (start: number, end: number, representative: number) => void): void {
    const positions = this.continuum.positions
    if (positions.length === 0) return
    let start = 0
    for (let k = 0; k < positions.length; k++) {
      const end = positions[k]! + 1
      visit(start, end, positions[k]!)
      start = Math.max(start, end)
    }
    // Past the last point, keys wrap around to point 0.
    if (start < TWO_POW_32) visit(start, TWO_POW_32, start)
  }
}

class VnodeRing extends ContinuumRing {
  readonly algorithm = 'vnode'
  readonly capabilities = CAPABILITIES
  protected readonly insertionOrdered = false
  private readonly vnodes: number

  constructor (init: VnodeRingInit) {
    super()
    const vnodes = init.vnodes ?? DEFAULT_VNODES
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new InvalidArgumentError(`vnodes must be a positive integer, got ${vnodes}`, { field: 'vnodes' })
    this.vnodes = vnodes
    this.initialise(init.nodes)
  }

  /** Point i of node n sits at murmur3("n#i"); a node of weight w has round(vnodes * w) points. */
  protected points (): { positions: number[], owners: number[] } {
    const positions: number[] = []
    const owners: number[] = []
    this.members.forEach((member, index) => {
      const count = Math.max(1, Math.round(this.vnodes * member.weight))
      for (let i = 0; i < count; i++) {
        positions.push(murmur3(`${member.id}#${i}`))
        owners.push(index)
      }
    })
    return { positions, owners }
  }

  protected emptyCopy (): VnodeRing {
    return new VnodeRing({ vnodes: this.vnodes })
  }

  toJSON (): VnodeRingState {
    return { format: 1, algorithm: 'vnode', vnodes: this.vnodes, nodes: this.members.map(nodeState) }
  }
}

class KetamaRing extends ContinuumRing {
  readonly algorithm = 'ketama'
  readonly capabilities = CAPABILITIES
  override readonly keyHash: KeyHashName = 'ketama-md5'
  protected readonly insertionOrdered = true
  private readonly vnodes: number
  private readonly replicas: number
  private readonly digest = new Int32Array(4)

  constructor (init: KetamaRingInit) {
    super()
    const vnodes = init.vnodes ?? 40
    const replicas = init.replicas ?? 4
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new InvalidArgumentError(`vnodes must be a positive integer, got ${vnodes}`, { field: 'vnodes' })
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 4) throw new InvalidArgumentError(`replicas must be 1 to 4, got ${replicas}`, { field: 'replicas' })
    this.vnodes = vnodes
    this.replicas = replicas
    this.initialise(init.nodes)
  }

  /** libketama: the first four bytes of md5(key), little-endian. */
  override hash (key: RingKey): number {
    return md5(key, this.digest)[0]! >>> 0
  }

  /**
   * libketama / hashring: node n gets floor(w / Σw * vnodes * nodes) hashes md5("n-i"), each
   * giving `replicas` points (its little-endian 32-bit words). The expression is evaluated in
   * hashring's order so that floating-point rounding matches too.
   */
  protected points (): { positions: number[], owners: number[] } {
    const positions: number[] = []
    const owners: number[] = []
    const members = this.members
    const totalWeight = members.reduce((sum, member) => sum + member.weight, 0)
    members.forEach((member, index) => {
      const percentage = member.weight / totalWeight
      const count = Math.floor(percentage * this.vnodes * members.length)
      for (let i = 0; i < count; i++) {
        const digest = md5(`${member.id}-${i}`, this.digest)
        for (let r = 0; r < this.replicas; r++) {
          positions.push(digest[r]! >>> 0)
          owners.push(index)
        }
      }
    })
    return { positions, owners }
  }

  protected emptyCopy (): KetamaRing {
    return new KetamaRing({ vnodes: this.vnodes, replicas: this.replicas })
  }

  toJSON (): KetamaRingState {
    return { format: 1, algorithm: 'ketama', vnodes: this.vnodes, replicas: this.replicas, nodes: this.members.map(nodeState) }
  }
}

/** Default points per unit of weight of the vnode ring. */
export const DEFAULT_VNODES = 4096

/** Options of {@link createVnodeRing}. */
export interface VnodeRingInit extends RingInit {
  /**
   * Points per unit of weight. Load imbalance shrinks as 1/sqrt(vnodes): the default keeps the
   * most loaded of 10 nodes within a few percent of the mean. Memory: 8 bytes per point.
   * @default 4096
   */
  vnodes?: number
}

/** Options of {@link createKetamaRing}. */
export interface KetamaRingInit extends RingInit {
  /**
   * Hashes per node at equal weights (hashring's `vnode count`).
   * @default 40
   */
  vnodes?: number
  /**
   * Points taken from each md5 digest: 4 for libketama and hashring, 3 for python's hash_ring.
   * @default 4
   */
  replicas?: number
}

/**
 * The classic consistent-hash ring with virtual nodes (Karger et al. 1997; Dynamo §4.2), on
 * MurmurHash3. Minimal movement on every change, weighted, contiguous ranges, preference lists by
 * walking clockwise.
 */
export function createVnodeRing (init: VnodeRingInit = {}): Ring {
  return new VnodeRing(init)
}

/**
 * A ketama (libketama, md5) ring that maps every key exactly as the npm `hashring` package does
 * with the same servers in the same order, for migrating off it. Unlike the vnode ring, a change
 * of membership or weight re-spreads every node's points when weights differ, as ketama does.
 */
export function createKetamaRing (init: KetamaRingInit = {}): Ring {
  return new KetamaRing(init)
}
