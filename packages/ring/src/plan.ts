import { InvalidArgumentError } from '@synod/interfaces'
import type { NodeId } from '@synod/interfaces'
import type { RingKey } from './hash/murmur3.js'
import type { LookupOptions, OwnedRange, Ring } from './types.js'

const TWO_POW_32 = 4294967296

/** Keys hashing into `[start, end)` move from `from` to `to`. */
export interface RangeMove {
  readonly start: number
  readonly end: number
  readonly from: NodeId
  readonly to: NodeId
}

/** What changes ownership between two rings, by key-hash range. */
export interface RangePlan {
  /** Sorted by `start`; adjacent ranges with the same `from` and `to` are merged. */
  readonly moves: RangeMove[]
  /** Share of the key-hash space that moves, in [0, 1]. */
  readonly movedFraction: number
  /** Share of the key-hash space each node receives, keyed by receiver. */
  readonly receivedFraction: ReadonlyMap<NodeId, number>
  /** Share of the key-hash space each node gives away, keyed by giver. */
  readonly givenFraction: ReadonlyMap<NodeId, number>
}

/**
 * Diffs the ownership of two rings by key-hash range: every range whose owner differs, with the
 * old and the new owner. Both rings must own ranges (`capabilities.ranges`), use the same
 * `keyHash` and be non-empty. A sharding layer streams each range from `from` to `to`, then
 * switches to `after`.
 */
export function planRangeMoves (before: Ring, after: Ring): RangePlan {
  checkSameHash(before, after)
  const moves: RangeMove[] = []
  const received = new Map<NodeId, number>()
  const given = new Map<NodeId, number>()
  let moved = 0
  sweep(before.ranges(), after.ranges(), (position: number, end: number, oldRange: OwnedRange, newRange: OwnedRange) => {
    if (oldRange.owner !== newRange.owner) {
      const width = end - position
      moved += width
      received.set(newRange.owner, (received.get(newRange.owner) ?? 0) + width / TWO_POW_32)
      given.set(oldRange.owner, (given.get(oldRange.owner) ?? 0) + width / TWO_POW_32)
      const last = moves[moves.length - 1]
      if (last !== undefined && last.end === position && last.from === oldRange.owner && last.to === newRange.owner) {
        moves[moves.length - 1] = { start: last.start, end, from: last.from, to: last.to }
      } else {
        moves.push({ start: position, end, from: oldRange.owner, to: newRange.owner })
      }
    }
  })
  return { moves, movedFraction: moved / TWO_POW_32, receivedFraction: received, givenFraction: given }
}

/** Keys hashing into `[start, end)` change preference list from `from` to `to`. */
export interface ReplicaRangeMove {
  readonly start: number
  readonly end: number
  /** Preference list before, owner first. */
  readonly from: readonly NodeId[]
  /** Preference list after, owner first. */
  readonly to: readonly NodeId[]
  /** Nodes that must receive the range (in `to`, not in `from`). */
  readonly gained: readonly NodeId[]
  /** Nodes that may drop the range once the move is done (in `from`, not in `to`). */
  readonly lost: readonly NodeId[]
}

/** What changes between two rings with replication, by key-hash range. */
export interface ReplicaRangePlan {
  /** Sorted by `start`; adjacent ranges with equal lists are merged. */
  readonly moves: ReplicaRangeMove[]
  /** Share of the key-hash space whose replica set (ignoring order) changes, in [0, 1]. */
  readonly movedFraction: number
  /** Data to copy, in units of the whole key-hash space (a full copy of everything is 1). */
  readonly copiedFraction: number
}

/** Options of {@link planReplicaRangeMoves}. */
export interface ReplicaRangePlanOptions extends LookupOptions {
  /** Replicas per key (the `n` of `lookup`). */
  replicas: number
}

/**
 * Diffs the preference lists of `replicas` nodes of two rings by key-hash range, as a sharding
 * layer with replication needs it (Cassandra's range streaming on bootstrap and decommission):
 * every range whose list changes, who must receive it and who may drop it. Ranges where only the
 * order changes (a new owner among the same replicas) are included with empty `gained` and `lost`.
 * Same conditions as {@link planRangeMoves}.
 */
export function planReplicaRangeMoves (before: Ring, after: Ring, options: ReplicaRangePlanOptions): ReplicaRangePlan {
  checkSameHash(before, after)
  const { replicas } = options
  if (!Number.isInteger(replicas) || replicas < 1) throw new InvalidArgumentError(`replicas must be a positive integer, got ${replicas}`, { field: 'replicas' })
  const lookupOptions: LookupOptions = { spreadZones: options.spreadZones ?? false }
  const moves: ReplicaRangeMove[] = []
  let moved = 0
  let copied = 0
  sweep(before.replicaRanges(replicas, lookupOptions), after.replicaRanges(replicas, lookupOptions), (start, end, oldRange, newRange) => {
    const from = oldRange.replicas
    const to = newRange.replicas
    if (from.length === to.length && from.every((node, index) => node === to[index])) return
    const gained = to.filter(node => !from.includes(node))
    const lost = from.filter(node => !to.includes(node))
    const width = end - start
    if (gained.length > 0 || lost.length > 0) moved += width
    copied += width * gained.length
    const last = moves[moves.length - 1]
    if (last !== undefined && last.end === start && sameList(last.from, from) && sameList(last.to, to)) {
      moves[moves.length - 1] = { ...last, end }
    } else {
      moves.push({ start, end, from, to, gained, lost })
    }
  })
  return { moves, movedFraction: moved / TWO_POW_32, copiedFraction: copied / TWO_POW_32 }
}

function sameList (a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((node, index) => node === b[index])
}

function checkSameHash (before: Ring, after: Ring): void {
  if (before.keyHash !== after.keyHash) {
    throw new InvalidArgumentError(`rings hash keys differently (${before.keyHash} vs ${after.keyHash})`, { field: 'keyHash' })
  }
}

/** Walks two sorted range lists covering `[0, 2^32)` together, calling `visit` on each common piece. */
function sweep<A extends { end: number }, B extends { end: number }> (left: readonly A[], right: readonly B[], visit: (start: number, end: number, a: A, b: B) => void): void {
  let i = 0
  let j = 0
  let position = 0
  while (position < TWO_POW_32) {
    const a = left[i]!
    const b = right[j]!
    const end = Math.min(a.end, b.end)
    visit(position, end, a, b)
    position = end
    if (a.end === end) i++
    if (b.end === end) j++
  }
}

/** A shard whose replica set changes. */
export interface ShardMove {
  /** The shard's key, as given. */
  readonly shard: RingKey
  /** Its preference list before, owner first. */
  readonly from: NodeId[]
  /** Its preference list after, owner first. */
  readonly to: NodeId[]
  /** Nodes that must receive a copy (in `to`, not in `from`). */
  readonly gained: NodeId[]
  /** Nodes that may drop their copy once the move is done (in `from`, not in `to`). */
  readonly lost: NodeId[]
  /** True when the owner (first node) changes. */
  readonly ownerChanged: boolean
}

/** What changes between two rings for a fixed set of shards. */
export interface ShardPlan {
  /** Shards whose preference list changes, in input order. */
  readonly moves: ShardMove[]
  /** Number of shards examined. */
  readonly shardCount: number
  /** Number of replica copies to create (sum of `gained` lengths). */
  readonly copies: number
}

/** Options of {@link planShardMoves}. */
export interface ShardPlanOptions extends LookupOptions {
  /**
   * Replicas per shard (the `n` of `lookup`).
   * @default 1
   */
  replicas?: number
}

/**
 * Diffs two rings over a set of shard keys: for each shard whose preference list of `replicas`
 * nodes changes, who held it, who holds it after, who must receive a copy and who may drop one.
 * Works for every algorithm and for rings of different algorithms (a migration).
 */
export function planShardMoves (before: Ring, after: Ring, shards: Iterable<RingKey>, options: ShardPlanOptions = {}): ShardPlan {
  const replicas = options.replicas ?? 1
  if (!Number.isInteger(replicas) || replicas < 1) throw new InvalidArgumentError(`replicas must be a positive integer, got ${replicas}`, { field: 'replicas' })
  const lookupOptions: LookupOptions = { spreadZones: options.spreadZones ?? false }
  const moves: ShardMove[] = []
  let shardCount = 0
  let copies = 0
  for (const shard of shards) {
    shardCount++
    const from = before.lookup(shard, replicas, lookupOptions)
    const to = after.lookup(shard, replicas, lookupOptions)
    if (from.length === to.length && from.every((node, index) => node === to[index])) continue
    const gained = to.filter(node => !from.includes(node))
    const lost = from.filter(node => !to.includes(node))
    copies += gained.length
    moves.push({ shard, from, to, gained, lost, ownerChanged: from[0] !== to[0] })
  }
  return { moves, shardCount, copies }
}
