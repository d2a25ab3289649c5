import type { NodeId } from '@synod/interfaces'
import type { RingKey } from './hash/murmur3.js'

export type { NodeId } from '@synod/interfaces'
export type { RingKey } from './hash/murmur3.js'

/** The placement algorithms this package implements. */
export type RingAlgorithm = 'vnode' | 'ketama' | 'jump' | 'rendezvous' | 'maglev'

/** The 32-bit key hash a ring routes on. Two rings can only be diffed by range if these match. */
export type KeyHashName = 'murmur3-32' | 'ketama-md5'

/** A member of a ring. A bare `NodeId` string is accepted wherever a node is, with weight 1. */
export interface RingNode {
  /** Stable identity of the node; placement is a function of it. */
  readonly id: NodeId
  /**
   * Relative capacity: a node of weight 2 receives twice the keys of a node of weight 1.
   * Must be a finite number above 0. Jump hash accepts only 1.
   * @default 1
   */
  readonly weight?: number
  /**
   * Failure domain (zone, rack, host) used by `lookup(key, n, { spreadZones: true })`.
   * Nodes without a zone are treated as one shared zone.
   * @default undefined
   */
  readonly zone?: string
}

/** A node as a ring reports it: weight always resolved. */
export interface ResolvedRingNode {
  readonly id: NodeId
  readonly weight: number
  readonly zone?: string
}

/** Options of {@link Ring.lookup}. */
export interface LookupOptions {
  /**
   * Prefer nodes of distinct zones: walk the key's preference order taking at most one node per
   * zone, then fill any remaining places in preference order (as Cassandra's
   * NetworkTopologyStrategy fills racks).
   * @default false
   */
  spreadZones?: boolean
}

/**
 * A contiguous range `[start, end)` of the 32-bit key-hash space (`0 <= start < end <= 2^32`)
 * and the node that owns every key hashing into it.
 */
export interface OwnedRange {
  readonly start: number
  readonly end: number
  readonly owner: NodeId
}

/**
 * A contiguous range `[start, end)` of the 32-bit key-hash space and the preference list (owner
 * first) of every key hashing into it.
 */
export interface ReplicaRange {
  readonly start: number
  readonly end: number
  readonly replicas: readonly NodeId[]
}

/** What an algorithm supports; callers branch on these rather than on `algorithm`. */
export interface RingCapabilities {
  /** Nodes may have weights other than 1. False for jump hash. */
  readonly weights: boolean
  /**
   * Removing any node moves only that node's keys. False for jump hash, where removing a node
   * other than the most recently added one also moves the last node's keys (the last node takes
   * over the removed bucket).
   */
  readonly minimalRemoveAny: boolean
  /**
   * Ownership and preference lists are constant over contiguous key-hash ranges (`ranges()`,
   * `replicaRanges()`, `planRangeMoves` and `planReplicaRangeMoves` work). True for the vnode
   * ring, ketama and Maglev; false for jump and rendezvous, whose owners change key by key.
   */
  readonly ranges: boolean
}

/**
 * A consistent-hashing ring: maps keys to nodes so that membership changes move few keys.
 *
 * All algorithms are deterministic functions of the serialised state ({@link Ring.toJSON}): two
 * processes that build the same state agree on every key. Lookups never allocate except for the
 * arrays that `lookup` returns. A ring is mutable and not safe to mutate while another caller
 * relies on the old mapping: `clone()` it first, then diff the two with `planRangeMoves` or
 * `planShardMoves`.
 */
export interface Ring {
  /** The placement algorithm. */
  readonly algorithm: RingAlgorithm
  /** What this algorithm supports. */
  readonly capabilities: RingCapabilities
  /** The key hash routed on; see {@link KeyHashName}. */
  readonly keyHash: KeyHashName
  /** Number of nodes. */
  readonly size: number
  /** Sum of the nodes' weights. */
  readonly totalWeight: number

  /** Members in canonical order (by id, or by insertion for jump and ketama, whose placement depends on it). */
  nodes (): ResolvedRingNode[]
  /** True when `id` is a member. */
  has (id: NodeId): boolean
  /** The member `id`, or undefined. */
  node (id: NodeId): ResolvedRingNode | undefined

  /** The 32-bit hash this ring routes `key` by (what `getByHash` and `ranges()` speak of). */
  hash (key: RingKey): number
  /** The node owning `key`, or undefined when the ring is empty. Allocation-free. */
  get (key: RingKey): NodeId | undefined
  /** The node owning a key whose {@link Ring.hash} is `hash`. Allocation-free. */
  getByHash (hash: number): NodeId | undefined
  /**
   * The preference list of `key`: up to `n` distinct nodes, the owner first, then the nodes that
   * take over, in order, if those before them fail. Returns fewer when the ring has fewer nodes.
   */
  lookup (key: RingKey, n: number, options?: LookupOptions): NodeId[]
  /** {@link Ring.lookup} for a precomputed {@link Ring.hash}. */
  lookupByHash (hash: number, n: number, options?: LookupOptions): NodeId[]

  /** Adds a node. Throws `ERR_INVALID_ARGUMENT` when it is already a member or its weight is invalid. */
  add (node: RingNode | NodeId): void
  /** Removes a node; returns false when it was not a member. */
  remove (id: NodeId): boolean
  /** Changes a node's weight. Throws `ERR_INVALID_ARGUMENT` for an unknown node, an invalid weight, or a ring without weights. */
  reweight (id: NodeId, weight: number): void

  /**
   * Ownership as sorted, merged ranges covering `[0, 2^32)`. Throws `ERR_INVALID_ARGUMENT` when
   * `capabilities.ranges` is false or the ring is empty.
   */
  ranges (): OwnedRange[]
  /**
   * Preference lists of `n` nodes (as `lookup(key, n, options)` returns them) as sorted, merged
   * ranges covering `[0, 2^32)`: what each node must hold with replication factor `n`. Same
   * conditions as {@link Ring.ranges}.
   */
  replicaRanges (n: number, options?: LookupOptions): ReplicaRange[]
  /** An independent copy with the same state. */
  clone (): Ring
  /** The complete state, in a canonical shape: `createRing(ring.toJSON())` rebuilds an equal ring. */
  toJSON (): RingState
}

/** A node as serialised. */
export interface RingNodeState {
  id: NodeId
  weight: number
  zone?: string
}

/** Serialised state of a vnode ring. */
export interface VnodeRingState {
  format: 1
  algorithm: 'vnode'
  vnodes: number
  nodes: RingNodeState[]
}

/** Serialised state of a ketama ring. */
export interface KetamaRingState {
  format: 1
  algorithm: 'ketama'
  vnodes: number
  replicas: number
  nodes: RingNodeState[]
}

/** Serialised state of a jump-hash ring; node order is bucket order. */
export interface JumpRingState {
  format: 1
  algorithm: 'jump'
  nodes: RingNodeState[]
}

/** Serialised state of a rendezvous ring. */
export interface RendezvousRingState {
  format: 1
  algorithm: 'rendezvous'
  nodes: RingNodeState[]
}

/** Serialised state of a Maglev ring. */
export interface MaglevRingState {
  format: 1
  algorithm: 'maglev'
  tableSize: number
  nodes: RingNodeState[]
}

/** Serialised state of any ring, as returned by {@link Ring.toJSON}. */
export type RingState = VnodeRingState | KetamaRingState | JumpRingState | RendezvousRingState | MaglevRingState

/** Initial members of a ring, shared by every factory. */
export interface RingInit {
  /**
   * Initial members, as nodes or bare ids. Order matters only for jump (bucket order) and ketama
   * (hashring's tie-breaking between equal points).
   * @default []
   */
  nodes?: Iterable<RingNode | NodeId>
}
