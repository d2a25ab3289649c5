import type { Clock, ClusterConfig, HardStateStorage, Logger, LogStorage, NodeId, Random, SnapshotStorage, StateMachine, Transport } from '@synod/interfaces'
import type { RaftCoreConfig } from '../core/index.js'
import type { RaftWireMessage } from './wire.js'

/** Configuration of a Raft node. */
export interface RaftNodeInit extends Pick<RaftCoreConfig,
  'electionTicks' | 'heartbeatTicks' | 'preVote' | 'checkQuorum' | 'maxSizePerMessage' | 'maxInflightMessages' |
  'maxInflightBytes' | 'maxUncommittedBytes' | 'maxApplyBytesPerReady' | 'maxCacheBytes' | 'maxClockDrift' |
  'commitPropagation'> {
  /** This node's id; stable across restarts. */
  id: NodeId
  /**
   * The initial configuration of a brand-new cluster. Used only when storage is empty; every
   * founding member must be given the same one. A node joining an existing cluster omits it and
   * is added by a membership change. @default undefined (join)
   */
  bootstrap?: ClusterConfig | undefined
  /** Length of one tick in milliseconds: the election timeout is `electionTicks * tickMs`. @default 100 */
  tickMs?: number
  /**
   * Followers forward proposals to the leader (the caller gets the committed result); when false
   * they reject with ERR_NOT_LEADER and a leader hint. Reads are always served through the leader's
   * ReadIndex when forwarding is on. @default true
   */
  forwardProposals?: boolean
  /** Most proposals merged into one log append. @default 4096 */
  maxBatchCount?: number
  /** Most bytes merged into one log append. @default 4194304 */
  maxBatchBytes?: number
  /** Snapshot chunk size for InstallSnapshot streams. @default 1048576 */
  snapshotChunkBytes?: number
  /** Take a snapshot once this many entries were applied since the last one (0: never automatically). @default 10000 */
  snapshotEveryEntries?: number
  /** Take a snapshot once this many bytes of commands were applied since the last one (0: never automatically). @default 67108864 */
  snapshotEveryBytes?: number
  /** Entries kept in the log behind a snapshot, so slow followers catch up without one. @default 1000 */
  compactionLagEntries?: number
  /**
   * How long a snapshot transfer may wait for one chunk's acknowledgement before it gives up (the
   * leader retries, resuming at the receiver's offset). @default two election timeouts (2000 ms with the defaults)
   */
  snapshotChunkTimeoutMs?: number
  /** Default `timeoutMs` of propose, readBarrier and changeMembership. @default 10000 */
  defaultTimeoutMs?: number
}

/** What a Raft node is built from. The node starts each of these in `start()` and stops them in `stop()`. */
export interface RaftNodeComponents<Result = unknown> {
  transport: Transport<RaftWireMessage>
  log: LogStorage
  hardState: HardStateStorage
  snapshots: SnapshotStorage
  stateMachine: StateMachine<Result>
  clock: Clock
  /** Randomness for election timeouts; a seeded one makes simulated runs reproducible. @default a crypto-backed source */
  random?: Random
  logger?: Logger
}

export type ResolvedNodeInit = Required<Pick<RaftNodeInit, 'tickMs' | 'forwardProposals' | 'maxBatchCount' | 'maxBatchBytes' |
  'snapshotChunkBytes' | 'snapshotEveryEntries' | 'snapshotEveryBytes' | 'compactionLagEntries' | 'snapshotChunkTimeoutMs' | 'defaultTimeoutMs' | 'electionTicks'>> & RaftNodeInit

export function resolveNodeInit (init: RaftNodeInit): ResolvedNodeInit {
  const tickMs = init.tickMs ?? 100
  const electionTicks = init.electionTicks ?? 10
  return {
    tickMs,
    snapshotChunkTimeoutMs: 2 * electionTicks * tickMs,
    forwardProposals: true,
    maxBatchCount: 4096,
    maxBatchBytes: 4 * 1024 * 1024,
    snapshotChunkBytes: 1024 * 1024,
    snapshotEveryEntries: 10_000,
    snapshotEveryBytes: 64 * 1024 * 1024,
    compactionLagEntries: 1000,
    defaultTimeoutMs: 10_000,
    electionTicks: 10,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined))
  } as ResolvedNodeInit
}
