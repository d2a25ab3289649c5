import type { ClusterConfig, LogEntry, NodeId, Role } from '@synod/interfaces'
import type { Ballot } from './ballot.js'
import type { PaxosMessage } from './messages.js'

/** What an acceptor must keep durable besides its accepted slots. */
export interface PaxosHardState {
  /** The highest ballot promised (Paxos Made Simple §2.2, P1a). */
  promised: Ballot
  /** The chosen prefix known here: a restart hint, not needed for safety. */
  commit: number
  /**
   * True while this replica is recovering from lost or corrupt state: it stores values but votes
   * in no quorum until it has learned every slot the leader had proposed when it came back
   * (Paxos Made Live §5.1).
   */
  recovering: boolean
  /** While recovering: the slot it must learn up to before voting again (0: not known yet). */
  recoverUntil: number
}

export interface ReadState {
  context: string
  index: number
}

export interface FailedRead {
  context: string
  reason: 'not-leader' | 'lease-expired' | 'dropped'
  leaderHint: NodeId | undefined
}

export interface SnapshotSend {
  to: NodeId
  ballot: Ballot
  meta: { index: number, term: number, config: ClusterConfig }
}

export interface SoftState {
  role: Role
  /** The ballot round this node acts under (the leader's ballot, or its promise). */
  term: number
  leader: NodeId | undefined
}

/**
 * What may leave while an earlier Ready's writes are in flight (see `PaxosCore.takeEarly`): the
 * leader's accepts and the chosen slots to apply, in slot order after those already handed out.
 */
export interface PaxosEarly {
  messages: PaxosMessage[]
  committedEntries: LogEntry[]
}

/**
 * Everything the driver must do, in this order:
 *
 * 1. send `earlyMessages` at once (a leader's accepts; it counts its own vote only once durable);
 * 2. install `snapshot`, then durably write `entries` (append; a rewritten slot replaces the
 *    stored suffix from its slot on, and `entries` always holds that whole suffix) and `hardState`;
 * 3. send `messages`. Promises and acknowledgements leave only after the state they vouch for is
 *    durable. If the write fails, send nothing and stop: the replica restarts from what is durable;
 * 4. apply `committedEntries` in slot order (they are chosen, so durable on a phase-2 quorum: a
 *    driver may start applying them before step 2 completes, after any `snapshot` is restored),
 *    serve `readStates`, start `snapshotSends`;
 * 5. call `advance(ready)`.
 */
export interface PaxosReady {
  softState: SoftState | undefined
  hardState: PaxosHardState | undefined
  snapshot: { index: number, term: number, config: ClusterConfig } | undefined
  entries: LogEntry[]
  committedEntries: LogEntry[]
  earlyMessages: PaxosMessage[]
  messages: PaxosMessage[]
  readStates: ReadState[]
  failedReads: FailedRead[]
  snapshotSends: SnapshotSend[]
  /** Configurations that took effect while producing this Ready. */
  configChanges: Array<{ slot: number, config: ClusterConfig }>
}
