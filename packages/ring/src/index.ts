/**
 * @packageDocumentation
 *
 * Consistent hashing for sharding and load balancing: which node owns which key or shard.
 *
 * One {@link Ring} interface over five algorithms:
 * - {@link createVnodeRing}: the classic ring with virtual nodes on MurmurHash3 (Dynamo,
 *   Cassandra); weighted, contiguous ranges, clockwise preference lists.
 * - {@link createKetamaRing}: libketama on md5, mapping keys exactly as the npm `hashring` package.
 * - {@link createJumpRing}: jump consistent hash; no memory, ideal balance, no weights.
 * - {@link createRendezvousRing}: weighted rendezvous (HRW) hashing, logarithmic method.
 * - {@link createMaglevRing}: Maglev lookup tables; one array read per lookup.
 *
 * Plus {@link createBoundedLoads} (consistent hashing with bounded loads, HAProxy's
 * `hash-balance-factor`), {@link planRangeMoves}, {@link planReplicaRangeMoves} and
 * {@link planShardMoves} (what moves from whom to whom between two rings), and canonical serialisation ({@link serializeRing},
 * {@link createRing}). Everything is deterministic: no `Math.random()`, no clocks.
 *
 * @example
 * ```ts
 * import { createVnodeRing, planRangeMoves } from '@synod/ring'
 *
 * const ring = createVnodeRing({ nodes: ['n1', 'n2', { id: 'n3', weight: 2 }] })
 * ring.get('user:42')                // owner of the key
 * ring.lookup('user:42', 2)          // owner and first fallback
 *
 * const next = ring.clone()
 * next.add('n4')
 * const plan = planRangeMoves(ring, next) // every moved range goes to n4
 * console.log(plan.movedFraction.toFixed(3), plan.moves.every(move => move.to === 'n4'))
 * ```
 */
export type {
  KeyHashName,
  LookupOptions,
  NodeId,
  OwnedRange,
  ReplicaRange,
  ResolvedRingNode,
  Ring,
  RingAlgorithm,
  RingCapabilities,
  RingInit,
  RingKey,
  RingNode,
  RingNodeState,
  RingState,
  VnodeRingState,
  KetamaRingState,
  JumpRingState,
  RendezvousRingState,
  MaglevRingState
} from './types.js'
export { createVnodeRing, createKetamaRing, DEFAULT_VNODES } from './algorithms/vnode.js'
export type { VnodeRingInit, KetamaRingInit } from './algorithms/vnode.js'
export { createJumpRing } from './algorithms/jump.js'
export type { JumpRingInit } from './algorithms/jump.js'
export { createRendezvousRing } from './algorithms/rendezvous.js'
export type { RendezvousRingInit } from './algorithms/rendezvous.js'
export { createMaglevRing } from './algorithms/maglev.js'
export type { MaglevRingInit } from './algorithms/maglev.js'
export { createBoundedLoads } from './bounded-loads.js'
export type { BoundedLoads, BoundedLoadsOptions, BoundedPickOptions } from './bounded-loads.js'
export { planRangeMoves, planReplicaRangeMoves, planShardMoves } from './plan.js'
export type {
  RangeMove, RangePlan, ReplicaRangeMove, ReplicaRangePlan, ReplicaRangePlanOptions, ShardMove, ShardPlan, ShardPlanOptions
} from './plan.js'
export { createRing, serializeRing, parseRing, ringFingerprint } from './state.js'
export { murmur3, fmix32 } from './hash/murmur3.js'
export { jumpHash } from './hash/jump.js'
