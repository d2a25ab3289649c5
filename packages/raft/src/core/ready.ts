import type { ClusterConfig, HardState, LogEntry, NodeId, Role } from '@synod/interfaces'
import type { RaftMessage } from './messages.js'

/** A confirmed linearizable read point: once the local state has applied `index`, read `context`. */
export interface ReadState {
  context: string
  index: number
}

/** A read that could not be confirmed (leadership lost, lease not valid, no leader known). */
export interface FailedRead {
  context: string
  reason: 'not-leader' | 'lease-expired' | 'dropped'
  leaderHint: NodeId | undefined
}

/**
 * The core asks the driver for entry bodies it no longer holds in memory (raft-rs's async fetch):
 * the driver reads `[from, to)` (at most `maxBytes`) from LogStorage and hands the result back
 * with `core.entriesFetched(id, entries)` (or `core.fetchFailed(id, error)`). The core revalidates
 * everything on return, so a fetch that raced with a leadership change or compaction is harmless.
 */
export interface EntryFetch {
  id: number
  from: number
  to: number
  maxBytes: number
}

/** The core wants the driver to stream the snapshot `meta` to `to` (chunked InstallSnapshot). */
export interface SnapshotSend {
  to: NodeId
  term: number
  meta: { index: number, term: number, config: ClusterConfig }
}

/** Volatile state worth telling the application about when it changes. */
export interface SoftState {
  role: Role
  term: number
  leader: NodeId | undefined
}

/**
 * Everything the driver must do, in order (etcd's Ready):
 *
 * 1. send `earlyMessages` at once (a leader's appends may go out in parallel with its own fsync,
 *    dissertation §10.2.1: the leader counts itself only once durable);
 * 2. durably write `snapshot` (install), `entries` (append, replacing any conflicting suffix) and
 *    `hardState`;
 * 3. send `messages` (votes and acknowledgements must not leave before the state they promise is
 *    durable);
 * 4. apply `committedEntries` in order; serve `readStates` once applied up to their index;
 *    start `fetches` and `snapshotSends`;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  softState: SoftState | undefined
  hardState: HardState | undefined
  snapshot: { index: number, term: number, config: ClusterConfig } | undefined
  entries: LogEntry[]
  committedEntries: LogEntry[]
  earlyMessages: RaftMessage[]
  messages: RaftMessage[]
  readStates: ReadState[]
  failedReads: FailedRead[]
  fetches: EntryFetch[]
  snapshotSends: SnapshotSend[]
  /** Configurations that took effect while producing this Ready (as committed entries were handed out). */
  configChanges: Array<{ index: number, config: ClusterConfig }>
}
