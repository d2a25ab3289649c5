import { InvalidArgumentError } from '@synod/interfaces'
import type { ClusterConfig, LogEntry, NodeId, Random } from '@synod/interfaces'
import type { QuorumPolicy } from './quorum.js'
import { quorumSizes } from './quorum.js'
import type { PaxosHardState } from './ready.js'

/** Where the core resumes from: the newest snapshot, or the bootstrap configuration at slot 0. */
export interface PaxosSnapshotPoint {
  index: number
  term: number
  config: ClusterConfig
}

/** Configuration of a Multi-Paxos core. Times are in ticks; the driver decides how long a tick is. */
export interface PaxosCoreConfig extends QuorumPolicy {
  /** This node's id. */
  id: NodeId
  /** Randomness for election timeouts and backoff. */
  random: Random
  /** The persisted promise, if any. */
  hardState?: PaxosHardState | undefined
  /**
   * The durable accepted slots after the snapshot, as stored (`encodeSlot` envelopes), contiguous
   * from `snapshot.index + 1`. @default []
   */
  entries?: readonly LogEntry[] | undefined
  /** The newest snapshot, or the bootstrap configuration at slot 0. @default an empty configuration */
  snapshot?: PaxosSnapshotPoint | undefined
  /**
   * Start as a recovering replica that votes in no quorum until caught up (its state was lost or
   * corrupt). A persisted `hardState.recovering` keeps it recovering across restarts. @default false
   */
  recovering?: boolean | undefined
  /**
   * The election timeout T: a replica that hears no leader for a random time in [T, 2T) runs
   * phase 1. Acceptors that heard a leader within T refuse other proposers' prepares, which keeps
   * the leader stable and makes its lease sound. @default 10
   */
  electionTicks?: number
  /**
   * Pre-vote (the Paxos form of Raft's, dissertation §9.6): a replica whose election timer fires
   * first asks the acceptors, without raising its promise, whether they hear a leader; it runs
   * phase 1 only once a phase-1 quorum says they do not. A replica cut off from a live leader
   * (a partition, a lossy link, a fast clock) then keeps its promise, and the leader is not made
   * to step down when it is heard again. @default true
   */
  preVote?: boolean
  /** Heartbeat interval; must be below `electionTicks`. @default 1 */
  heartbeatTicks?: number
  /**
   * The activation window α (Lamport, "Paxos Made Simple" §3; "Reconfiguring a State Machine"):
   * a configuration chosen at slot s governs slots from s + α on, and the leader never proposes
   * slot i before every slot up to i - α is chosen, so the configuration of every slot it
   * proposes is already known. It is also the pipeline depth. @default 1024
   */
  activationWindow?: number
  /** Most slots in one accept message. @default 1024 */
  maxSlotsPerMessage?: number
  /** Bound on slots proposed but not yet sent (beyond the window); beyond it proposals fail with ERR_OVERLOADED. @default 100000 */
  maxQueuedProposals?: number
  /**
   * Bound on clock drift between nodes, as a fraction of elapsed time. A leader trusts its lease
   * for `electionTicks * (1 - maxClockDrift)` ticks after sending the newest heartbeat a phase-2
   * quorum acknowledged. @default 0.1
   */
  maxClockDrift?: number
}

export type ResolvedPaxosConfig = Required<Omit<PaxosCoreConfig, 'hardState' | 'snapshot' | 'entries' | 'phase1Quorum' | 'phase2Quorum' | 'recovering'>> &
  Pick<PaxosCoreConfig, 'hardState' | 'snapshot' | 'entries' | 'phase1Quorum' | 'phase2Quorum' | 'recovering'>

export function resolvePaxosConfig (config: PaxosCoreConfig): ResolvedPaxosConfig {
  const resolved = {
    electionTicks: 10,
    preVote: true,
    heartbeatTicks: 1,
    activationWindow: 1024,
    maxSlotsPerMessage: 1024,
    maxQueuedProposals: 100_000,
    maxClockDrift: 0.1,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined))
  } as ResolvedPaxosConfig
  if (resolved.id === '') throw new InvalidArgumentError('id must not be empty', { field: 'id' })
  if (!(resolved.heartbeatTicks >= 1)) throw new InvalidArgumentError('heartbeatTicks must be at least 1', { field: 'heartbeatTicks' })
  if (!(resolved.electionTicks > resolved.heartbeatTicks)) throw new InvalidArgumentError('electionTicks must exceed heartbeatTicks', { field: 'electionTicks' })
  if (!(Number.isInteger(resolved.activationWindow) && resolved.activationWindow >= 1)) throw new InvalidArgumentError('activationWindow must be a positive integer', { field: 'activationWindow' })
  if (!(resolved.maxSlotsPerMessage >= 1)) throw new InvalidArgumentError('maxSlotsPerMessage must be at least 1', { field: 'maxSlotsPerMessage' })
  if (!(resolved.maxClockDrift >= 0 && resolved.maxClockDrift < 1)) throw new InvalidArgumentError('maxClockDrift must be in [0, 1)', { field: 'maxClockDrift' })
  const voters = resolved.snapshot?.config.voters.length ?? 0
  // Flexible Paxos: refuse at configuration any quorum pair that might not intersect.
  if (voters > 0) quorumSizes(voters, resolved)
  return resolved
}
