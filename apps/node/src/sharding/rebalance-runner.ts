import {
  InvalidMembershipError, NotFoundError, NotLeaderError, ProposalDroppedError, TimeoutError,
  type AbortOptions, type ClusterConfig, type NodeId
} from '@synod/interfaces'
import type { GroupId } from './group-mux.js'
import type { RebalancePlan, RebalanceStep, ShardMovePlan } from './rebalance-plan.js'
import type { ShardHost } from './shard-host.js'
import type { ShardPlacement } from './shard-map.js'

const RETRYABLE = new Set([NotLeaderError.code, InvalidMembershipError.code, ProposalDroppedError.code, TimeoutError.code])

function alreadyDone (step: RebalanceStep, config: ClusterConfig, leader: NodeId): boolean {
  switch (step.kind) {
    case 'add-learner': return config.learners.includes(step.node) || config.voters.includes(step.node)
    case 'promote': return config.voters.includes(step.node)
    case 'remove': return !config.learners.includes(step.node) && !config.voters.includes(step.node)
    case 'transfer-leadership': return leader === step.to
    case 'await-catch-up': return false
  }
}

/** Options of `runRebalance`. */
export interface RunRebalanceOptions extends AbortOptions {
  /** Longest wait for one step (a leader to appear, a learner to catch up, a change to commit). @default 30000 */
  stepTimeoutMs?: number
  /** Called after each step completes, for progress reporting. */
  onStep?: (step: RebalanceStep) => void
  /**
   * Records a shard's new placement once its move is done, before the hosts are told (with a shard
   * host: `(placement) => host.proposeMetadata({ op: 'set-shard-placement', placement })`, so the
   * metadata group, and through it every node, agrees on it). @default not recorded
   */
  record?: (placement: ShardPlacement) => Promise<unknown>
}

/**
 * Carries out a rebalancing plan on shard hosts reachable in this process: wave after wave, the
 * moves of a wave concurrently, the steps of a move in order, each on the shard's current leader.
 * Before `add-learner` the receiving node opens an empty replica; after `remove` the removed node
 * drops its replica; when a move is done every host records the shard's new placement.
 *
 * This is the coordinator for one process (tests, benchmarks, a single-process cluster). Across
 * processes the same loop belongs to the leader of the metadata group, sending each step to the
 * shard leader over the network; that is not built yet.
 */
export async function runRebalance (plan: RebalancePlan, after: readonly ShardPlacement[], hosts: readonly ShardHost[], options: RunRebalanceOptions = {}): Promise<void> {
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000
  const hostOf = (node: NodeId): ShardHost => {
    const host = hosts.find((candidate) => candidate.nodeId === node)
    if (host === undefined) throw new NotFoundError(`no shard host for node ${node}`)
    return host
  }
  const onLeader = async (shard: GroupId, step: RebalanceStep): Promise<void> => {
    const deadline = Date.now() + stepTimeoutMs
    for (;;) {
      options.signal?.throwIfAborted()
      const leader = hosts.find((host) => host.replica(shard)?.raft.isLeader() === true)
      if (leader !== undefined) {
        // Steps are idempotent: one that already took effect (a retry after a lost answer) is done.
        const status = leader.replica(shard)?.raft.status()
        if (status !== undefined && alreadyDone(step, status.config, leader.nodeId)) {
          options.onStep?.(step)
          return
        }
        try {
          await leader.executeStep(step, { timeoutMs: stepTimeoutMs, signal: options.signal })
          options.onStep?.(step)
          return
        } catch (error) {
          // An election under way, a new leader that has not yet applied its predecessor's entries,
          // or an answer lost with the leader: look again and retry.
          if (!RETRYABLE.has((error as { code?: string }).code ?? '')) throw error
        }
      }
      if (Date.now() > deadline) throw new TimeoutError(`no leader of shard ${shard} took step ${step.kind}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const runMove = async (move: ShardMovePlan): Promise<void> => {
    const placement = after[move.shard] as ShardPlacement
    for (const step of move.steps) {
      if (step.kind === 'add-learner') await hostOf(step.node).joinShard(placement)
      if (step.kind === 'remove') {
        // The plan assumed the preferred leader leads; if the replica to remove leads now (an
        // election happened), hand leadership to a staying voter first: a leader removing itself
        // leaves its followers' forwarded requests unanswered until they time out.
        const leader = hosts.find((host) => host.replica(move.shard)?.raft.isLeader() === true)
        const voters = leader?.replica(move.shard)?.raft.status().config.voters ?? []
        const heir = voters.find((node) => node !== step.node && placement.replicas.includes(node))
        if (leader?.nodeId === step.node && heir !== undefined) await onLeader(move.shard, { kind: 'transfer-leadership', shard: move.shard, to: heir })
      }
      await onLeader(move.shard, step)
      if (step.kind === 'remove') await hostOf(step.node).leaveShard(move.shard)
    }
    await options.record?.(placement)
    for (const host of hosts) host.updatePlacement(placement)
  }
  for (const wave of plan.waves) await Promise.all(wave.map(runMove))
}
