/**
 * Sharding inside the node: many Raft groups (shards) on one node.
 *
 * - `createGroupMux`: many groups over one transport connection per peer, coalesced envelopes.
 * - `placeShards` / `shardOfKey`: the key space split by hash, replicas placed by `@synod/ring`.
 * - `createShardHost`: runs the shards a node hosts, routes KV requests to them, quiesces idle ones.
 * - `planRebalance`: the ordered, throttled steps that move replicas from one placement to another.
 * - `ShardHost.addMember` / `removeMember`: online membership changes, rebalanced across processes
 *   by the groups' leaders (`cluster-plan.ts` holds their decisions).
 */
export { createGroupMux, isMuxEnvelope } from './group-mux.js'
export type { GroupId, GroupMux, GroupMuxInit, GroupMuxStats, MuxEnvelope } from './group-mux.js'
export { createPausableClock } from './group-clock.js'
export type { PausableClock } from './group-clock.js'
export { NodeLiveness } from './liveness.js'
export {
  followerMayQuiesce, isQuiescenceMessage, leaderMayQuiesce, wakesQuiescedReplica
} from './quiescence.js'
export type { QuiescenceMessage, ShardMessage } from './quiescence.js'
export { createPlacementRing, placeShards, shardOfKey, shardRingKey } from './shard-map.js'
export type { PlacementInit, ShardPlacement } from './shard-map.js'
export { fileShardStorage, journalShardStorage, memoryShardStorage } from './shard-storage.js'
export type { FileShardStorageInit, JournalShardStorage, JournalShardStorageInit, ShardStorage, ShardStorageFactory } from './shard-storage.js'
export { createShardHost } from './shard-host.js'
export type {
  ShardHost, ShardHostComponents, ShardHostInit, ShardHostStats, ShardMapView, ShardNode, ShardRaftTuning, ShardReadOptions, ShardReplica, ShardStatus
} from './shard-host.js'
export { activeNodes, groupMembers, nextGroupAction, nextShardAction, nextWave, rebalanceStatus, staleMoves, targetPlacement } from './cluster-plan.js'
export type { GroupAction, GroupMembers, RebalanceStatus, ShardAction } from './cluster-plan.js'
export { planRebalance } from './rebalance-plan.js'
export type { RebalancePlan, RebalancePlanOptions, RebalanceStep, ShardMovePlan } from './rebalance-plan.js'
export { createSharedHardStateStore } from './shared-hard-state.js'
export type { SharedHardStateStore } from './shared-hard-state.js'
export { runRebalance } from './rebalance-runner.js'
export type { RunRebalanceOptions } from './rebalance-runner.js'
export { createMetadataStateMachine, encodeMetadataCommand, hostsAnything, LOCK_GROUP, METADATA_GROUP, moveMembers, samePlacement } from './metadata.js'
export type { MetadataCommand, MetadataNode, MetadataResult, MetadataState, MetadataStateMachine, ShardMove } from './metadata.js'
