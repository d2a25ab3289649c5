import type { NodeId } from './transport.js'

/**
 * The members of a consensus group. During a joint-consensus change (Raft §6, dissertation §4.3)
 * `outgoingVoters` holds the old voter set and decisions need a majority of both sets.
 */
export interface ClusterConfig {
  /** Voting members. */
  voters: NodeId[]
  /** Non-voting members that receive the log (learners). */
  learners: NodeId[]
  /** The previous voter set while a joint change is in progress; absent otherwise. */
  outgoingVoters?: NodeId[] | undefined
  /** Network address of each member, so a new member can be reached by everyone. */
  addresses: Record<NodeId, string>
}

/** One membership change. `joint` replaces the voter and learner sets in one joint-consensus step. */
export type MembershipChange =
  | { type: 'add-voter', id: NodeId, address: string }
  | { type: 'add-learner', id: NodeId, address: string }
  | { type: 'promote', id: NodeId }
  | { type: 'remove', id: NodeId }
  | { type: 'joint', voters: NodeId[], learners: NodeId[], addresses: Record<NodeId, string> }
