import type { AbortOptions } from './abort.js'
import type { TypedEventTarget } from './events.js'
import type { Startable } from './lifecycle.js'
import type { ClusterConfig, MembershipChange } from './membership.js'
import type { SnapshotMeta } from './storage.js'
import type { NodeId } from './transport.js'

/** A node's role in its consensus group. Paxos uses 'leader' for the stable proposer, 'follower' for acceptors. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner'

/** The outcome of a committed proposal. */
export interface ProposeResult<Result = unknown> {
  /** The log index the command was committed at. */
  index: number
  term: number
  /** What the state machine's `apply` returned for it. */
  result: Result
}

export interface ProposeOptions extends AbortOptions {
  /**
   * Give up after this many milliseconds with ERR_TIMEOUT. A proposal that timed out may still
   * commit later (the error's `indeterminate` is true). @default 10000
   */
  timeoutMs?: number
}

/** How a linearizable read is confirmed. */
export type ReadMode =
  /** Confirm leadership with a quorum round trip (Raft's ReadIndex). */
  | 'read-index'
  /** Trust the leader lease (needs check-quorum and a bounded clock drift; see the engine's README). */
  | 'lease'

export interface ReadBarrierOptions extends AbortOptions {
  /** @default 'read-index' */
  mode?: ReadMode
  /** @default 10000 */
  timeoutMs?: number
}

/** A confirmed read point: the local state machine has applied at least `index`. */
export interface ReadBarrier {
  index: number
  term: number
}

/** A snapshot of a node's consensus state, for status pages and tests. */
export interface ReplicatedLogStatus {
  id: NodeId
  role: Role
  term: number
  leader: NodeId | undefined
  commitIndex: number
  appliedIndex: number
  /** First and last index in the local log. */
  firstIndex: number
  lastIndex: number
  config: ClusterConfig
}

export interface ReplicatedLogEvents {
  /** This node's role or term changed. */
  role: { role: Role, term: number }
  /** The known leader changed (undefined while unknown). */
  leader: { leader: NodeId | undefined, term: number }
  /** Commands up to `index` have been applied to the state machine. */
  applied: { index: number }
  /** The cluster configuration in effect changed. */
  membership: { config: ClusterConfig }
  /** A snapshot was taken or installed. */
  snapshot: { meta: SnapshotMeta }
}

/**
 * A replicated, linearizable log driving a StateMachine: the one contract both Raft and Paxos
 * implement, and the one the lock service and the node consume.
 *
 * `propose` resolves once the command is committed and applied locally, with the state machine's
 * result; `readBarrier` resolves once a linearizable read of local state is safe. Both reject
 * with ERR_NOT_LEADER (with a leader hint) when this node cannot serve them and forwarding is off.
 */
export interface ReplicatedLog<Result = unknown> extends Startable, TypedEventTarget<ReplicatedLogEvents> {
  readonly id: NodeId
  propose(command: Uint8Array, options?: ProposeOptions): Promise<ProposeResult<Result>>
  readBarrier(options?: ReadBarrierOptions): Promise<ReadBarrier>
  status(): ReplicatedLogStatus
  /** True while this node believes it is the leader. */
  isLeader(): boolean
  /**
   * Applies one membership change through the log; resolves with the new configuration once it
   * is committed. Rejects with ERR_INVALID_MEMBERSHIP for unsafe changes (another change pending,
   * removing the last voter, ...).
   */
  changeMembership(change: MembershipChange, options?: AbortOptions): Promise<ClusterConfig>
  /** Hands leadership to `to` (or the most up-to-date voter); resolves once it leads. */
  transferLeadership(to?: NodeId, options?: AbortOptions): Promise<void>
  /** Takes a snapshot of the state machine now and compacts the log behind it. */
  snapshot(options?: AbortOptions): Promise<SnapshotMeta>
}
