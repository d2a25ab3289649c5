import type { NodeId } from '@synod/interfaces'
import type { RaftNodeStatus, RaftWireMessage } from '@synod/raft'

/**
 * Quiescence (CockroachDB's, adapted): an idle group stops ticking on every replica, so 1,000 idle
 * groups cost no timers and no heartbeats. The leader decides, tells its followers with a
 * `quiesce` message naming the log position, and each follower stops only if it holds exactly that
 * position under that leader; otherwise it asks the leader to `wake`. Node-level liveness stands in
 * for the silenced heartbeats: when a peer node stops answering, every group it belongs to wakes.
 */
export type QuiescenceMessage =
  | { type: 'quiesce', from: NodeId, to: NodeId, term: number, commitIndex: number, lastIndex: number }
  | { type: 'wake', from: NodeId, to: NodeId, term: number }

/** Everything a shard's transport view carries: Raft's messages and the quiescence protocol. */
export type ShardMessage = RaftWireMessage | QuiescenceMessage

export function isQuiescenceMessage (value: unknown): value is QuiescenceMessage {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Partial<QuiescenceMessage>
  if (typeof m.from !== 'string' || typeof m.to !== 'string' || typeof m.term !== 'number') return false
  if (m.type === 'wake') return true
  return m.type === 'quiesce' && typeof m.commitIndex === 'number' && typeof m.lastIndex === 'number'
}

/** The voters and learners of a status' configuration other than `self`. */
export function otherMembers (status: RaftNodeStatus): NodeId[] {
  const members = new Set([...status.config.voters, ...status.config.learners, ...(status.config.outgoingVoters ?? [])])
  members.delete(status.id)
  return [...members]
}

/**
 * Whether a leader may quiesce now: it leads, nothing is uncommitted, unapplied, being
 * transferred or reconfigured, and every other member is live and holds the whole log.
 * (`busy` is the host's own count of operations in flight on the group.)
 */
export function leaderMayQuiesce (status: RaftNodeStatus, isLive: (node: NodeId) => boolean, busy: boolean): boolean {
  if (busy || status.role !== 'leader' || status.leadTransferee !== undefined) return false
  if (status.config.outgoingVoters !== undefined && status.config.outgoingVoters.length > 0) return false
  if (status.commitIndex !== status.lastIndex || status.appliedIndex !== status.commitIndex) return false
  for (const member of otherMembers(status)) {
    const progress = status.progress[member]
    if (progress === undefined || !isLive(member)) return false
    if (progress.match !== status.lastIndex || progress.state !== 'replicate' || progress.inflightMessages > 0) return false
  }
  return true
}

/** Whether a follower may follow its leader into quiescence: same leader, same term, same log position. */
export function followerMayQuiesce (status: RaftNodeStatus, request: Extract<QuiescenceMessage, { type: 'quiesce' }>): boolean {
  return (status.role === 'follower' || status.role === 'learner') &&
    status.leader === request.from && status.term === request.term &&
    status.lastIndex === request.lastIndex && status.commitIndex === request.commitIndex
}

/**
 * Whether an incoming Raft message must wake a quiesced replica. Acknowledgements of what the
 * leader already knows (heartbeat responses, successful append responses) arrive after the
 * leader's last heartbeat round and carry nothing new: waking on them would undo every quiesce.
 */
export function wakesQuiescedReplica (message: RaftWireMessage): boolean {
  if (message.type === 'heartbeat-response') return false
  if (message.type === 'append-response') return message.reject
  return true
}
