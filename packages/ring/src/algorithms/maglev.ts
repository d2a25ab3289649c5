import { InvalidArgumentError } from '@synod/interfaces'
import { BaseRing } from '../core/base-ring.js'
import { nodeState } from '../core/nodes.js'
import { RendezvousScores } from '../core/rendezvous-scores.js'
import { murmur3 } from '../hash/murmur3.js'
import type { MaglevRingState, Ring, RingCapabilities, RingInit } from '../types.js'

const CAPABILITIES: RingCapabilities = Object.freeze({ weights: true, minimalRemoveAny: true, ranges: true })
const OFFSET_SEED = 0x6f666673
const SKIP_SEED = 0x736b6970
const TWO_POW_32 = 4294967296
const TWO_POW_MINUS_32 = 2.3283064365386963e-10

function isPrime (value: number): boolean {
  if (value < 2) return false
  if (value % 2 === 0) return value === 2
  for (let divisor = 3; divisor * divisor <= value; divisor += 2) {
    if (value % divisor === 0) return false
  }
  return true
}

/** First key hash of slot `slot`: ceil(slot * 2^32 / size), computed exactly. */
function slotStart (slot: number, size: number): number {
  const numerator = slot * TWO_POW_32
  let start = Math.floor(numerator / size)
  while (start * size < numerator) start++
  while (start > 0 && (start - 1) * size >= numerator) start--
  return start
}

class MaglevRing extends BaseRing {
  readonly algorithm = 'maglev'
  readonly capabilities = CAPABILITIES
  protected readonly insertionOrdered = false
  private readonly tableSize: number
  private table = new Int32Array(0)
  private replicaScores = new RendezvousScores([])

  constructor (init: MaglevRingInit) {
    super()
    const tableSize = init.tableSize ?? 65537
    if (!Number.isInteger(tableSize) || tableSize > 0x7fffffff || !isPrime(tableSize)) {
      throw new InvalidArgumentError(`tableSize must be a prime below 2^31, got ${tableSize}`, { field: 'tableSize' })
    }
    this.tableSize = tableSize
    this.initialise(init.nodes)
  }

  /**
   * Maglev §3.4, pseudocode 1: every node walks its own permutation of the table
   * (offset + j * skip mod M; M prime, so every skip visits every slot) and the nodes take turns
   * claiming their next free slot. Weights, as in Envoy: a node takes a turn each time its
   * accumulated weight reaches the largest weight, so turns are proportional to weight.
   */
  protected rebuild (): void {
    this.replicaScores = new RendezvousScores(this.members)
    const size = this.tableSize
    const count = this.members.length
    const table = new Int32Array(count === 0 ? 0 : size).fill(-1)
    this.table = table
    if (count === 0) return
    const position = new Float64Array(count)
    const skip = new Float64Array(count)
    const credit = new Float64Array(count)
    let maxWeight = 0
    for (let i = 0; i < count; i++) {
      const id = this.members[i]!.id
      position[i] = murmur3(id, OFFSET_SEED) % size
      skip[i] = (murmur3(id, SKIP_SEED) % (size - 1)) + 1
      maxWeight = Math.max(maxWeight, this.members[i]!.weight)
    }
    let filled = 0
    while (filled < size) {
      for (let i = 0; i < count && filled < size; i++) {
        credit[i] = credit[i]! + this.members[i]!.weight
        if (credit[i]! < maxWeight) continue
        credit[i] = credit[i]! - maxWeight
        let slot = position[i]!
        while (table[slot] !== -1) slot = (slot + skip[i]!) % size
        table[slot] = i
        position[i] = (slot + skip[i]!) % size
        filled++
      }
    }
  }

  /**
   * Slot of a key hash: floor(hash * M / 2^32) rather than the paper's hash mod M, so each slot is
   * one contiguous range of hashes and ownership can be diffed by range.
   */
  protected primaryIndex (hash: number): number {
    if (this.table.length === 0) return -1
    return this.table[this.slotOf(hash)]!
  }

  private slotOf (hash: number): number {
    return Math.floor(hash * this.tableSize * TWO_POW_MINUS_32)
  }

  /**
   * The owner from the table, the replicas by rendezvous over the other nodes, scored on the
   * slot rather than the key: every key of a slot then has the same preference list, so replica
   * sets are ranges too.
   */
  protected walk = (hash: number, visit: (index: number) => boolean): void => {
    if (this.table.length === 0) return
    const slot = this.slotOf(hash)
    this.replicaScores.walk(slot, visit, this.table[slot])
  }

  protected override forEachSegment (visit: (start: number, end: number, representative: number) => void): void {
    const size = this.tableSize
    let start = 0
    for (let slot = 0; slot < size; slot++) {
      const end = slotStart(slot + 1, size)
      visit(start, end, start)
      start = end
    }
  }

  protected emptyCopy (): MaglevRing {
    return new MaglevRing({ tableSize: this.tableSize })
  }

  toJSON (): MaglevRingState {
    return { format: 1, algorithm: 'maglev', tableSize: this.tableSize, nodes: this.members.map(nodeState) }
  }
}

/** Options of {@link createMaglevRing}. */
export interface MaglevRingInit extends RingInit {
  /**
   * Lookup table size M, a prime. Balance and disruption improve as M grows past 100 times the
   * number of nodes (Maglev §5.3); memory is 4 bytes per slot.
   * @default 65537
   */
  tableSize?: number
}

/**
 * Maglev hashing (Eisenbud et al., NSDI 2016): a lookup is one table read, balance is within a
 * fraction of a percent, and a membership change moves slightly more than the minimum.
 * Replicas (`lookup(key, n)`) come from rendezvous hashing over the other nodes.
 */
export function createMaglevRing (init: MaglevRingInit = {}): Ring {
  return new MaglevRing(init)
}
