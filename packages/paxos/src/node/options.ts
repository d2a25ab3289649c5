import type { Clock, ClusterConfig, HardStateStorage, Logger, LogStorage, NodeId, Random, SnapshotStorage, StateMachine, Transport } from '@synod/interfaces'
import type { PaxosCoreConfig, PaxosHardState } from '../core/index.js'
import type { PaxosWireMessage } from './wire.js'

/** Configuration of a Paxos node. */
export interface PaxosNodeInit extends Pick<PaxosCoreConfig,
  'electionTicks' | 'preVote' | 'heartbeatTicks' | 'activationWindow' | 'maxSlotsPerMessage' | 'maxQueuedProposals' | 'maxClockDrift' |
  'phase1Quorum' | 'phase2Quorum'> {
  /** This node's id; stable across restarts. */
  id: NodeId
  /**
   * The initial configuration of a brand-new cluster, used only when storage is empty; every
   * founding member must be given the same one. A node that finds its storage empty without a
   * bootstrap configuration (a replaced disk, or a node added by a membership change) starts as a
   * recovering replica that does not vote until it has caught up. @default undefined
   */
  bootstrap?: ClusterConfig | undefined
  /**
   * Force recovery mode: the replica lost its state (a restored backup, a replaced disk, even
   * with `bootstrap` set) and must not vote until caught up. Corrupt state is detected and
   * recovered from automatically. @default false
   */
  recovering?: boolean | undefined
  /** Length of one tick in milliseconds. @default 100 */
  tickMs?: number
  /** Followers forward proposals to the leader; when false they reject with ERR_NOT_LEADER. @default true */
  forwardProposals?: boolean
  /** Most proposals handed to the core in one batch. @default 4096 */
  maxBatchCount?: number
  /** Most bytes handed to the core in one batch. @default 4194304 */
  maxBatchBytes?: number
  /** Snapshot chunk size for transfers. @default 1048576 */
  snapshotChunkBytes?: number
  /** Take a snapshot once this many slots were applied since the last one (0: never automatically). @default 10000 */
  snapshotEveryEntries?: number
  /** Take a snapshot once this many bytes of commands were applied since the last one (0: never by size). @default 67108864 */
  snapshotEveryBytes?: number
  /** Slots kept behind a snapshot so slow replicas catch up without one. @default 1000 */
  compactionLagEntries?: number
  /** How long a snapshot transfer may wait for one chunk's acknowledgement. @default 10000 */
  snapshotChunkTimeoutMs?: number
  /** Default `timeoutMs` of propose, readBarrier and changeMembership. @default 10000 */
  defaultTimeoutMs?: number
}

/** What a Paxos node is built from: the same components as a Raft node. */
export interface PaxosNodeComponents<Result = unknown> {
  transport: Transport<PaxosWireMessage>
  /** Accepted slots: index = slot, term = ballot round (the ballot's node id is in the entry envelope). */
  log: LogStorage
  /** The acceptor's promise. */
  hardState: HardStateStorage<PaxosHardState>
  snapshots: SnapshotStorage
  stateMachine: StateMachine<Result>
  clock: Clock
  /** Randomness for election timeouts; a seeded one makes simulated runs reproducible. @default a crypto-backed source */
  random?: Random
  logger?: Logger
}

export type ResolvedNodeInit = Required<Pick<PaxosNodeInit, 'tickMs' | 'forwardProposals' | 'maxBatchCount' | 'maxBatchBytes' |
  'snapshotChunkBytes' | 'snapshotEveryEntries' | 'snapshotEveryBytes' | 'compactionLagEntries' | 'snapshotChunkTimeoutMs' | 'defaultTimeoutMs' | 'electionTicks' | 'activationWindow'>> & PaxosNodeInit

export function resolveNodeInit (init: PaxosNodeInit): ResolvedNodeInit {
  return {
    tickMs: 100,
    forwardProposals: true,
    maxBatchCount: 4096,
    maxBatchBytes: 4 * 1024 * 1024,
    snapshotChunkBytes: 1024 * 1024,
    snapshotEveryEntries: 10_000,
    snapshotEveryBytes: 64 * 1024 * 1024,
    compactionLagEntries: 1000,
    snapshotChunkTimeoutMs: 10_000,
    defaultTimeoutMs: 10_000,
    electionTicks: 10,
    activationWindow: 1024,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined))
  } as ResolvedNodeInit
}
