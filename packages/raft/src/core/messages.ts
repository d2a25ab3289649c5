import type { ClusterConfig, LogEntry, NodeId } from '@synod/interfaces'

/**
 * Raft's wire messages. Every message is plain data (objects, arrays, numbers, strings, booleans,
 * Uint8Array) so any Transport can encode it (msgpack on the WebSocket transport).
 *
 * Every message carries the sender's `term`; Raft §5.1 uses it to detect stale leaders and
 * candidates. `from`/`to` are node ids.
 */
interface Envelope {
  from: NodeId
  to: NodeId
  term: number
}

/** RequestVote (§5.2), or a PreVote probe (dissertation §9.6) when `preVote` is true. */
export interface VoteRequest extends Envelope {
  type: 'vote-request'
  preVote: boolean
  lastIndex: number
  lastTerm: number
  /** Sent by a transfer target after TimeoutNow: voters ignore their leader lease (dissertation §3.10). */
  transfer: boolean
}

export interface VoteResponse extends Envelope {
  type: 'vote-response'
  preVote: boolean
  granted: boolean
}

/** AppendEntries (§5.3) carrying log entries. */
export interface AppendRequest extends Envelope {
  type: 'append'
  prevIndex: number
  prevTerm: number
  entries: LogEntry[]
  commit: number
}

/**
 * The answer to an append (or to an installed snapshot). On success `index` is the last index the
 * follower now holds in agreement with the leader. On rejection `index` is the rejected
 * `prevIndex`, and `hintIndex`/`hintTerm` name the follower's last entry that might still match,
 * so the leader skips a whole term of conflicting entries per round trip (§5.3, fast backtracking).
 */
export interface AppendResponse extends Envelope {
  type: 'append-response'
  reject: boolean
  index: number
  hintIndex: number
  hintTerm: number
}

/** A heartbeat. `commit` never exceeds the receiver's match index, so it can never commit past its log. */
export interface Heartbeat extends Envelope {
  type: 'heartbeat'
  commit: number
  /** Id of the newest ReadIndex request this heartbeat confirms leadership for (empty if none). */
  readContext: string
  /** The leader's tick count when sent, echoed back so the leader can time its lease from the send. */
  sentTick: number
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeat-response'
  readContext: string
  sentTick: number
}

/**
 * One chunk of an InstallSnapshot transfer (§7). The chunks travel between the drivers (they own
 * the bytes); the core sees them only so that a follower busy receiving a snapshot keeps treating
 * the sender as its leader.
 */
export interface SnapshotChunk extends Envelope {
  type: 'snapshot-chunk'
  meta: { index: number, term: number, config: ClusterConfig }
  offset: number
  data: Uint8Array
  done: boolean
}

/** The receiver's acknowledgement of a chunk: where the next chunk must start (resumable transfer). */
export interface SnapshotChunkAck extends Envelope {
  type: 'snapshot-chunk-ack'
  snapshotIndex: number
  nextOffset: number
  /** True when the receiver refused the transfer (stale term, or its writer failed). */
  reject: boolean
}

/** Tells the leadership transfer target to start an election at once (dissertation §3.10). */
export interface TimeoutNow extends Envelope {
  type: 'timeout-now'
}

/** A follower asking the leader to confirm a ReadIndex for it (dissertation §6.4). */
export interface ReadIndexRequest extends Envelope {
  type: 'read-index'
  context: string
  lease: boolean
}

export interface ReadIndexResponse extends Envelope {
  type: 'read-index-response'
  context: string
  /** The confirmed read index, or -1 if the leader could not serve it (no longer leader, lease not valid). */
  index: number
}

export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotChunkAck
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse

export type RaftMessageType = RaftMessage['type']

const messageTypes = new Set<string>([
  'vote-request', 'vote-response', 'append', 'append-response', 'heartbeat', 'heartbeat-response',
  'snapshot-chunk', 'snapshot-chunk-ack', 'timeout-now', 'read-index', 'read-index-response'
])

/** A cheap structural check for messages arriving from the network. */
export function isRaftMessage (value: unknown): value is RaftMessage {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Partial<Envelope> & { type?: unknown }
  return typeof m.type === 'string' && messageTypes.has(m.type) &&
    typeof m.from === 'string' && typeof m.to === 'string' && typeof m.term === 'number'
}
