import type { NodeId } from '@synod/interfaces'

/** The outcome of a vote count. */
export type VoteResult = 'won' | 'lost' | 'pending'

/**
 * The largest index acknowledged by a majority of `voters` (Raft §5.3). An empty voter set
 * places no constraint, so it answers +Infinity (the joint form then takes the other half).
 */
export function majorityCommitted (voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number): number {
  if (voters.size === 0) return Number.POSITIVE_INFINITY
  const matches: number[] = []
  for (const id of voters) matches.push(matchOf(id))
  matches.sort((a, b) => b - a)
  return matches[Math.floor(voters.size / 2)] ?? 0
}

/** Counts votes in one voter set: won once a majority granted, lost once a majority is impossible. */
export function majorityVote (voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won'
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const vote = votes.get(id)
    if (vote === undefined) missing++
    else if (vote) granted++
  }
  const quorum = Math.floor(voters.size / 2) + 1
  if (granted >= quorum) return 'won'
  if (granted + missing >= quorum) return 'pending'
  return 'lost'
}

/**
 * A voter configuration, possibly joint (dissertation §4.3): decisions need a majority of the
 * incoming set and, while `outgoing` is non-empty, a majority of the outgoing set too.
 */
export interface JointVoters {
  incoming: ReadonlySet<NodeId>
  outgoing: ReadonlySet<NodeId>
}

export function jointCommitted (voters: JointVoters, matchOf: (id: NodeId) => number): number {
  const index = Math.min(majorityCommitted(voters.incoming, matchOf), majorityCommitted(voters.outgoing, matchOf))
  return Number.isFinite(index) ? index : 0
}

export function jointVote (voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const incoming = majorityVote(voters.incoming, votes)
  const outgoing = majorityVote(voters.outgoing, votes)
  if (incoming === 'won' && outgoing === 'won') return 'won'
  if (incoming === 'lost' || outgoing === 'lost') return 'lost'
  return 'pending'
}

/** Every voter of either half, each once. */
export function allVoters (voters: JointVoters): Set<NodeId> {
  return new Set([...voters.incoming, ...voters.outgoing])
}
