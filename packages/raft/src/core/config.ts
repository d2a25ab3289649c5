import { InvalidArgumentError } from '@synod/interfaces'
import type { ClusterConfig, HardState, NodeId, Random } from '@synod/interfaces'
import type { LogMetadata } from './raft-log.js'

/** Where the core resumes from: the newest snapshot (or the bootstrap configuration at index 0). */
export interface CoreSnapshotPoint {
  index: number
  term: number
  config: ClusterConfig
}

/** Configuration of a Raft core. Times are in ticks; the driver decides how long a tick is. */
export interface RaftCoreConfig {
  /** This node's id. */
  id: NodeId
  /** Synchronous position metadata of the durable log (a `LogStorage` satisfies it). */
  storage: LogMetadata
  /** Randomness for election timeouts. */
  random: Random
  /** The persisted HardState, if any. */
  hardState?: HardState | undefined
  /**
   * The newest snapshot, or for a fresh cluster the bootstrap configuration at index 0
   * (`{ index: 0, term: 0, config }`). A node joining an existing cluster starts with an empty
   * configuration and learns it from the leader. @default an empty configuration at index 0
   */
  snapshot?: CoreSnapshotPoint | undefined
  /**
   * The election timeout T: a follower that hears nothing for a random time in [T, 2T) campaigns
   * (Raft §5.2). With check-quorum, a leader steps down after T without a quorum. @default 10
   */
  electionTicks?: number
  /** Heartbeat interval; must be below `electionTicks`. @default 1 */
  heartbeatTicks?: number
  /** Run a PreVote round before a real election (dissertation §9.6). @default true */
  preVote?: boolean
  /**
   * Leaders step down without a quorum of contact for an election timeout, and followers that
   * heard from a leader within the timeout refuse votes (dissertation §6.2). Lease reads need it.
   * @default true
   */
  checkQuorum?: boolean
  /** Byte budget of one append message (at least one entry is always sent). @default 1048576 */
  maxSizePerMessage?: number
  /** In-flight append messages per follower in replicate state. @default 256 */
  maxInflightMessages?: number
  /** In-flight append bytes per follower (0: unlimited). @default 33554432 */
  maxInflightBytes?: number
  /** Bound on the bytes of uncommitted entries a leader accepts; beyond it proposals fail with ERR_OVERLOADED (0: unlimited). @default 67108864 */
  maxUncommittedBytes?: number
  /** Bytes of committed entries handed out by one `ready()`. @default 67108864 */
  maxApplyBytesPerReady?: number
  /** Byte budget of durable, applied entries kept in memory for followers catching up. @default 67108864 */
  maxCacheBytes?: number
  /**
   * Bound on clock drift between nodes, as a fraction of elapsed time. A leader trusts its lease
   * for `electionTicks * (1 - maxClockDrift)` ticks after the send of the newest heartbeat a quorum
   * acknowledged. @default 0.1
   */
  maxClockDrift?: number
  /**
   * How followers learn that the commit index advanced.
   *
   * - `'eager'`: whenever the leader's commit index advances it sends every follower an append,
   *   even one that carries no entries and only the new commit index (etcd's behaviour).
   * - `'lazy'`: the leader sends no append just to carry the commit index. Followers learn it from
   *   the next append that carries entries or from the next heartbeat, as in hashicorp/raft. This
   *   saves one message and one answer per follower per commit when proposals trickle in.
   *
   * Lazy mode costs only this: a follower's commit and apply index trail the leader's by up to one
   * heartbeat interval when no new entries follow, so serializable (stale) reads on followers are
   * staler. Everything that waits on a follower is still told at once: a remote ReadIndex or lease
   * read (the answer's index is pushed to the reader), a forwarded proposal (see
   * `RaftCore.notifyCommit`), and a commit that covers a membership change or a new leader's first
   * commit of the entries of earlier terms. Safety does not depend on the mode.
   * @default 'eager'
   */
  commitPropagation?: CommitPropagation
}

/** How followers learn a new commit index; see `RaftCoreConfig.commitPropagation`. */
export type CommitPropagation = 'eager' | 'lazy'

export type ResolvedCoreConfig = Required<Omit<RaftCoreConfig, 'hardState' | 'snapshot'>> & Pick<RaftCoreConfig, 'hardState' | 'snapshot'>

export function resolveCoreConfig (config: RaftCoreConfig): ResolvedCoreConfig {
  const resolved: ResolvedCoreConfig = {
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxSizePerMessage: 1024 * 1024,
    maxInflightMessages: 256,
    maxInflightBytes: 32 * 1024 * 1024,
    maxUncommittedBytes: 64 * 1024 * 1024,
    maxApplyBytesPerReady: 64 * 1024 * 1024,
    maxCacheBytes: 64 * 1024 * 1024,
    maxClockDrift: 0.1,
    commitPropagation: 'eager',
    ...stripUndefined(config)
  } as ResolvedCoreConfig
  if (resolved.id === '') throw new InvalidArgumentError('id must not be empty', { field: 'id' })
  if (!(resolved.heartbeatTicks >= 1)) throw new InvalidArgumentError('heartbeatTicks must be at least 1', { field: 'heartbeatTicks' })
  if (!(resolved.electionTicks > resolved.heartbeatTicks)) throw new InvalidArgumentError('electionTicks must exceed heartbeatTicks', { field: 'electionTicks' })
  if (!(resolved.maxInflightMessages >= 1)) throw new InvalidArgumentError('maxInflightMessages must be at least 1', { field: 'maxInflightMessages' })
  if (!(resolved.maxClockDrift >= 0 && resolved.maxClockDrift < 1)) throw new InvalidArgumentError('maxClockDrift must be in [0, 1)', { field: 'maxClockDrift' })
  if (resolved.commitPropagation !== 'eager' && resolved.commitPropagation !== 'lazy') throw new InvalidArgumentError("commitPropagation must be 'eager' or 'lazy'", { field: 'commitPropagation' })
  return resolved
}

function stripUndefined<T extends object> (value: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined) (out as Record<string, unknown>)[key] = v
  }
  return out
}
