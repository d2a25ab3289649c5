import { InvalidArgumentError, type NodeId } from '@synod/interfaces'
import type { GroupId } from './group-mux.js'
import type { ShardPlacement } from './shard-map.js'

/**
 * One step of moving a shard's replicas. Each maps to one call on the shard's leader:
 * `changeMembership` for `add-learner`, `promote` and `remove`, `transferLeadership` for
 * `transfer-leadership`; `await-catch-up` waits until the learner's match index reaches the
 * leader's commit index (a snapshot first, if the log was compacted past it).
 */
export type RebalanceStep =
  | { kind: 'add-learner', shard: GroupId, node: NodeId }
  | { kind: 'await-catch-up', shard: GroupId, node: NodeId }
  | { kind: 'promote', shard: GroupId, node: NodeId }
  | { kind: 'transfer-leadership', shard: GroupId, to: NodeId }
  | { kind: 'remove', shard: GroupId, node: NodeId }

/** How one shard gets from its old replicas to its new ones. */
export interface ShardMovePlan {
  shard: GroupId
  from: NodeId[]
  to: NodeId[]
  steps: RebalanceStep[]
}

/** A rebalancing plan: the moves, grouped into waves that run one after the other. */
export interface RebalancePlan {
  moves: ShardMovePlan[]
  /** Moves of one wave run concurrently; no node takes part in more than `maxMovesPerNode` of them. */
  waves: ShardMovePlan[][]
  /** Replica copies to make (learners to catch up). */
  copies: number
}

/** Options of `planRebalance`. */
export interface RebalancePlanOptions {
  /**
   * Most concurrent moves one node takes part in (receiving a copy or giving one up): the throttle
   * that keeps snapshot traffic and catch-up from crowding out foreground requests.
   * @default 1
   */
  maxMovesPerNode?: number
}

/**
 * Plans the move from one placement to another, for shards whose replica sets differ (the ring's
 * diff, so only what the ring moves moves). For each shard, every new replica is added as a
 * learner, caught up and promoted before an old one is removed (the group never has fewer voters
 * than it should), one change at a time (Raft §4.1's single-server changes); if the replica to be
 * removed is the shard's preferred leader, leadership moves first, since a leader removing itself
 * costs an election. Leadership finally moves to the new preferred leader.
 */
export function planRebalance (before: readonly ShardPlacement[], after: readonly ShardPlacement[], options: RebalancePlanOptions = {}): RebalancePlan {
  const maxMovesPerNode = options.maxMovesPerNode ?? 1
  if (!Number.isSafeInteger(maxMovesPerNode) || maxMovesPerNode < 1) {
    throw new InvalidArgumentError('maxMovesPerNode must be a positive integer', { field: 'maxMovesPerNode' })
  }
  if (before.length !== after.length) throw new InvalidArgumentError('both placements must cover the same shards', { field: 'after' })
  const moves: ShardMovePlan[] = []
  let copies = 0
  for (const [i, old] of before.entries()) {
    const next = after[i] as ShardPlacement
    if (old.shard !== next.shard) throw new InvalidArgumentError(`placements disagree at position ${i}`, { field: 'after' })
    const gained = next.replicas.filter((node) => !old.replicas.includes(node))
    const lost = old.replicas.filter((node) => !next.replicas.includes(node))
    if (gained.length === 0 && lost.length === 0) {
      if (old.preferredLeader !== next.preferredLeader) {
        moves.push({ shard: old.shard, from: old.replicas, to: next.replicas, steps: [{ kind: 'transfer-leadership', shard: old.shard, to: next.preferredLeader }] })
      }
      continue
    }
    copies += gained.length
    moves.push({ shard: old.shard, from: old.replicas, to: next.replicas, steps: stepsFor(old, next, gained, lost) })
  }
  return { moves, waves: throttle(moves, maxMovesPerNode), copies }
}

function stepsFor (old: ShardPlacement, next: ShardPlacement, gained: NodeId[], lost: NodeId[]): RebalanceStep[] {
  const shard = old.shard
  const steps: RebalanceStep[] = []
  let leader = old.preferredLeader
  const voters = new Set(old.replicas)
  for (let i = 0; i < Math.max(gained.length, lost.length); i++) {
    const adding = gained[i]
    if (adding !== undefined) {
      steps.push({ kind: 'add-learner', shard, node: adding }, { kind: 'await-catch-up', shard, node: adding }, { kind: 'promote', shard, node: adding })
      voters.add(adding)
    }
    const removing = lost[i]
    if (removing !== undefined) {
      if (removing === leader) {
        // Hand leadership to a voter that stays: the new preferred leader if it is a voter by now.
        const heir = voters.has(next.preferredLeader) && next.preferredLeader !== removing
          ? next.preferredLeader
          : [...voters].find((node) => node !== removing && next.replicas.includes(node))
        if (heir !== undefined) {
          steps.push({ kind: 'transfer-leadership', shard, to: heir })
          leader = heir
        }
      }
      steps.push({ kind: 'remove', shard, node: removing })
      voters.delete(removing)
    }
  }
  if (leader !== next.preferredLeader) steps.push({ kind: 'transfer-leadership', shard, to: next.preferredLeader })
  return steps
}

/** Greedy first-fit into waves, in shard order, bounding the moves each node takes part in per wave. */
function throttle (moves: ShardMovePlan[], maxMovesPerNode: number): ShardMovePlan[][] {
  const waves: Array<{ moves: ShardMovePlan[], load: Map<NodeId, number> }> = []
  for (const move of moves) {
    const involved = [...new Set([...move.to.filter((node) => !move.from.includes(node)), ...move.from.filter((node) => !move.to.includes(node))])]
    // A leadership-only move copies nothing: it involves no node's bandwidth.
    let wave = waves.find((candidate) => involved.every((node) => (candidate.load.get(node) ?? 0) < maxMovesPerNode))
    if (wave === undefined) {
      wave = { moves: [], load: new Map() }
      waves.push(wave)
    }
    wave.moves.push(move)
    for (const node of involved) wave.load.set(node, (wave.load.get(node) ?? 0) + 1)
  }
  return waves.map((wave) => wave.moves)
}
