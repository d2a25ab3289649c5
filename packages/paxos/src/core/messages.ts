import type { ClusterConfig, EntryType, LogEntry, NodeId } from '@synod/interfaces'
import type { Ballot } from './ballot.js'

/**
 * Multi-Paxos wire messages. Every message is plain data so any Transport can encode it, and
 * carries the sender's ballot: the proposer's for requests, the acceptor's promise for replies.
 */
interface Envelope {
  from: NodeId
  to: NodeId
  ballot: Ballot
}

/**
 * A slot in an accept, exactly as stored (`encodeSlot`): `index` is the slot, `term` the ballot
 * round, `data` the ballot envelope and then the value. Acceptors store the entry they receive
 * instead of encoding it again.
 */
export type WireSlot = LogEntry

/** A slot in a promise: the bare value and the ballot it was accepted at. */
export interface WireAcceptedSlot {
  slot: number
  type: EntryType
  data: Uint8Array
  ballot: Ballot
}

/** Phase 1a over every slot from `fromSlot` on (Multi-Paxos: one prepare for all unchosen slots). */
export interface Prepare extends Envelope {
  type: 'prepare'
  fromSlot: number
  /** Sent by a leadership-transfer target: acceptors set aside their stable-leader guard. */
  transfer: boolean
  /**
   * A pre-prepare: "would you promise a new proposer now?" It asks without changing any state,
   * and `ballot` is only the ballot the sender would use. Acceptors answer with a `promise` marked
   * `pre`. Absent (false) on a real prepare, and in messages from nodes that predate it.
   */
  pre?: boolean
}

/**
 * Phase 1b. On success `accepted` lists every value the acceptor holds for slots `>= fromSlot`
 * with the ballot it was accepted at; `commit` is the acceptor's chosen prefix (those slots hold
 * chosen values) and `compacted` the last slot it no longer holds. On rejection `ballot` is the
 * acceptor's promise, so the proposer jumps past it.
 */
export interface PromiseReply extends Envelope {
  type: 'promise'
  /** The ballot this answers. */
  request: Ballot
  ok: boolean
  /**
   * An answer to a pre-prepare: `ok` says the acceptor hears no live leader and would take part
   * in an election; nothing was promised and `accepted` is empty.
   */
  pre?: boolean
  commit: number
  compacted: number
  accepted: WireAcceptedSlot[]
}

/** Phase 2a for a contiguous run of slots, all at `ballot`, plus the leader's chosen prefix. */
export interface Accept extends Envelope {
  type: 'accept'
  entries: WireSlot[]
  commit: number
}

/**
 * Phase 2b. `match` is the end of the acceptor's run of slots, from its chosen prefix on, that
 * hold values at the request's ballot: the leader counts it toward choosing every slot up to
 * there. `gap` means the batch started past the acceptor's log; `match + 1` is where to resend.
 * `voter` is false while the acceptor is recovering from lost state: it stores values but its
 * acknowledgement counts toward no quorum.
 */
export interface Accepted extends Envelope {
  type: 'accepted'
  request: Ballot
  ok: boolean
  gap: boolean
  match: number
  voter: boolean
}

/** Leader liveness, chosen-prefix propagation and read confirmation. */
export interface Heartbeat extends Envelope {
  type: 'heartbeat'
  commit: number
  /** The leader's highest slot: a recovering acceptor must learn up to here before voting again. */
  lastSlot: number
  /** The newest read sequence this heartbeat confirms leadership for (0: none). */
  readSeq: number
  /** The leader's tick when sent, echoed so a lease is timed from the send. */
  sentTick: number
}

export interface HeartbeatReply extends Envelope {
  type: 'heartbeat-reply'
  request: Ballot
  ok: boolean
  match: number
  readSeq: number
  sentTick: number
  voter: boolean
}

/** A follower asking the leader to confirm a read point for it. */
export interface ReadRequest extends Envelope {
  type: 'read-request'
  context: string
  lease: boolean
}

export interface ReadReply extends Envelope {
  type: 'read-reply'
  context: string
  /** The confirmed read index, or -1 if the leader could not serve it. */
  index: number
}

/** Asks the transfer target to campaign at once. */
export interface TimeoutNow extends Envelope {
  type: 'timeout-now'
}

/** One chunk of a snapshot transfer (the drivers move the bytes; the core only sees liveness). */
export interface SnapshotChunk extends Envelope {
  type: 'snapshot-chunk'
  meta: { index: number, term: number, config: ClusterConfig }
  offset: number
  data: Uint8Array
  done: boolean
}

export interface SnapshotChunkAck extends Envelope {
  type: 'snapshot-chunk-ack'
  snapshotIndex: number
  nextOffset: number
  reject: boolean
}

export type PaxosMessage =
  | Prepare
  | PromiseReply
  | Accept
  | Accepted
  | Heartbeat
  | HeartbeatReply
  | ReadRequest
  | ReadReply
  | TimeoutNow
  | SnapshotChunk
  | SnapshotChunkAck

export type PaxosMessageType = PaxosMessage['type']

const messageTypes = new Set<string>([
  'prepare', 'promise', 'accept', 'accepted', 'heartbeat', 'heartbeat-reply', 'read-request', 'read-reply',
  'timeout-now', 'snapshot-chunk', 'snapshot-chunk-ack'
])

/** A cheap structural check for messages arriving from the network. */
export function isPaxosMessage (value: unknown): value is PaxosMessage {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Partial<Envelope> & { type?: unknown }
  return typeof m.type === 'string' && messageTypes.has(m.type) && typeof m.from === 'string' && typeof m.to === 'string' &&
    typeof m.ballot === 'object' && m.ballot !== null && typeof m.ballot.round === 'number' && typeof m.ballot.node === 'string'
}
