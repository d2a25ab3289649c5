import { InvalidArgumentError } from '@synod/interfaces'
import type { NodeId } from '@synod/interfaces'
import { murmur3 } from '../hash/murmur3.js'
import type { RingKey } from '../hash/murmur3.js'
import type {
  KeyHashName, LookupOptions, OwnedRange, ReplicaRange, ResolvedRingNode, Ring, RingAlgorithm, RingCapabilities, RingNode, RingState
} from '../types.js'
import { checkWeight, compareIds, resolveNode } from './nodes.js'

/**
 * Visits node indexes in a key's preference order, each at most once, until `visit` returns true
 * or every node was visited.
 */
export type PreferenceWalk = (hash: number, visit: (nodeIndex: number) => boolean) => void

/**
 * Membership bookkeeping and the algorithm-independent parts of {@link Ring}: preference lists,
 * zone spreading, validation. Subclasses place keys; they rebuild their tables in `rebuild()`
 * after every membership change.
 */
export abstract class BaseRing implements Ring {
  abstract readonly algorithm: RingAlgorithm
  abstract readonly capabilities: RingCapabilities
  readonly keyHash: KeyHashName = 'murmur3-32'

  /** Members in canonical order; index i of every per-node array below refers to `members[i]`. */
  protected members: ResolvedRingNode[] = []
  protected indexById = new Map<NodeId, number>()

  /** True when members keep insertion order (placement depends on it); otherwise sorted by id. */
  protected abstract readonly insertionOrdered: boolean

  /** Recomputes placement tables from `members`. */
  protected abstract rebuild (): void
  /** Index of the node owning `hash`, or -1 for an empty ring. */
  protected abstract primaryIndex (hash: number): number
  /** The key's preference order. */
  protected abstract walk: PreferenceWalk
  /** State for `toJSON`. */
  abstract toJSON (): RingState
  /** A new empty ring of the same kind and options. */
  protected abstract emptyCopy (): BaseRing

  get size (): number {
    return this.members.length
  }

  /** Adds initial members with one rebuild. */
  protected initialise (nodes: Iterable<RingNode | NodeId> | undefined): void {
    const resolved: ResolvedRingNode[] = []
    const seen = new Set<NodeId>()
    for (const node of nodes ?? []) {
      const member = resolveNode(node)
      if (seen.has(member.id)) throw new InvalidArgumentError(`duplicate node ${member.id}`, { field: 'id' })
      seen.add(member.id)
      this.validateMember(member)
      resolved.push(member)
    }
    if (!this.insertionOrdered) resolved.sort((a, b) => compareIds(a.id, b.id))
    this.members = resolved
    this.reindex()
    this.rebuild()
  }

  /** Hook for algorithms with restrictions (jump: weight 1 only). */
  protected validateMember (_node: ResolvedRingNode): void {}

  private reindex (): void {
    this.indexById = new Map(this.members.map((member, index) => [member.id, index]))
    this.weightSum = this.members.reduce((sum, member) => sum + member.weight, 0)
    this.zoneCount = new Set(this.members.map(member => member.zone)).size
  }

  private weightSum = 0
  private zoneCount = 0

  get totalWeight (): number {
    return this.weightSum
  }

  nodes (): ResolvedRingNode[] {
    return this.members.slice()
  }

  has (id: NodeId): boolean {
    return this.indexById.has(id)
  }

  node (id: NodeId): ResolvedRingNode | undefined {
    const index = this.indexById.get(id)
    return index === undefined ? undefined : this.members[index]
  }

  hash (key: RingKey): number {
    return murmur3(key)
  }

  get (key: RingKey): NodeId | undefined {
    return this.getByHash(this.hash(key))
  }

  getByHash (hash: number): NodeId | undefined {
    const index = this.primaryIndex(hash >>> 0)
    return index < 0 ? undefined : this.members[index]!.id
  }

  lookup (key: RingKey, n: number, options?: LookupOptions): NodeId[] {
    return this.lookupByHash(this.hash(key), n, options)
  }

  lookupByHash (hash: number, n: number, options?: LookupOptions): NodeId[] {
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`n must be a non-negative integer, got ${n}`, { field: 'n' })
    const wanted = Math.min(n, this.members.length)
    const result: NodeId[] = []
    if (wanted === 0) return result
    const members = this.members
    if (options?.spreadZones !== true) {
      this.walk(hash >>> 0, index => {
        result.push(members[index]!.id)
        return result.length >= wanted
      })
      return result
    }
    const zoneCount = this.zoneCount
    const usedZones = new Set<string | undefined>()
    const deferred: NodeId[] = []
    this.walk(hash >>> 0, index => {
      const member = members[index]!
      if (usedZones.size < zoneCount && !usedZones.has(member.zone)) {
        usedZones.add(member.zone)
        result.push(member.id)
      } else {
        deferred.push(member.id)
      }
      // Once every zone has a node, the rest follow in plain preference order.
      return result.length >= wanted || (usedZones.size === zoneCount && result.length + deferred.length >= wanted)
    })
    for (const id of deferred) {
      if (result.length >= wanted) break
      result.push(id)
    }
    return result
  }

  add (node: RingNode | NodeId): void {
    const member = resolveNode(node)
    if (this.indexById.has(member.id)) throw new InvalidArgumentError(`node ${member.id} is already a member`, { field: 'id' })
    this.validateMember(member)
    if (this.insertionOrdered) {
      this.members.push(member)
    } else {
      let at = this.members.length
      while (at > 0 && compareIds(this.members[at - 1]!.id, member.id) > 0) at--
      this.members.splice(at, 0, member)
    }
    this.reindex()
    this.rebuild()
  }

  remove (id: NodeId): boolean {
    const index = this.indexById.get(id)
    if (index === undefined) return false
    this.removeAt(index)
    this.reindex()
    this.rebuild()
    return true
  }

  /** Removes `members[index]`; jump overrides it to move the last node into the gap. */
  protected removeAt (index: number): void {
    this.members.splice(index, 1)
  }

  reweight (id: NodeId, weight: number): void {
    if (!this.capabilities.weights) throw new InvalidArgumentError(`${this.algorithm} does not support weights`, { field: 'weight' })
    checkWeight(weight)
    const index = this.indexById.get(id)
    if (index === undefined) throw new InvalidArgumentError(`unknown node ${id}`, { field: 'id' })
    const member = this.members[index]!
    this.members[index] = Object.freeze(member.zone === undefined ? { id, weight } : { id, weight, zone: member.zone })
    this.reindex()
    this.rebuild()
  }

  ranges (): OwnedRange[] {
    this.checkRanged()
    const ranges: OwnedRange[] = []
    this.forEachSegment((start, end, representative) => {
      pushRange(ranges, start, end, this.members[this.primaryIndex(representative)]!.id)
    })
    return ranges
  }

  replicaRanges (n: number, options?: LookupOptions): ReplicaRange[] {
    this.checkRanged()
    const ranges: ReplicaRange[] = []
    this.forEachSegment((start, end, representative) => {
      if (end <= start) return
      const replicas = this.lookupByHash(representative, n, options)
      const last = ranges[ranges.length - 1]
      if (last !== undefined && last.end === start && sameList(last.replicas, replicas)) {
        ranges[ranges.length - 1] = { start: last.start, end, replicas: last.replicas }
      } else {
        ranges.push({ start, end, replicas })
      }
    })
    return ranges
  }

  private checkRanged (): void {
    if (!this.capabilities.ranges) throw new InvalidArgumentError(`${this.algorithm} does not own contiguous ranges; use planShardMoves`, { field: 'algorithm' })
    if (this.members.length === 0) throw new InvalidArgumentError('an empty ring owns no ranges', { field: 'nodes' })
  }

  /**
   * For algorithms with `capabilities.ranges`: visits, in order, the elementary segments
   * `[start, end)` covering `[0, 2^32)` over which the preference order is constant, each with one
   * hash inside it. Segments may be empty (end <= start).
   */
  protected forEachSegment (_visit: (start: number, end: number, representative: number) => void): void {}

  clone (): Ring {
    const copy = this.emptyCopy()
    copy.members = this.members.slice()
    copy.reindex()
    copy.rebuild()
    return copy
  }
}

function sameList (a: readonly NodeId[], b: readonly NodeId[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Appends `[start, end) -> owner` to `ranges`, merging with the previous range when it has the same owner. */
function pushRange (ranges: OwnedRange[], start: number, end: number, owner: NodeId): void {
  if (end <= start) return
  const last = ranges[ranges.length - 1]
  if (last !== undefined && last.owner === owner && last.end === start) {
    ranges[ranges.length - 1] = { start: last.start, end, owner }
  } else {
    ranges.push({ start, end, owner })
  }
}
