import type { NodeId } from '@synod/interfaces'
import type { RaftMessage } from '../core/index.js'
import { isRaftMessage } from '../core/index.js'

/** A follower forwarding proposals to the leader (driver level: the core never sees it). */
export interface ForwardPropose {
  type: 'forward-propose'
  from: NodeId
  to: NodeId
  term: number
  /** Names the follower process (random per start), so request ids are unique across restarts. */
  session: string
  requestId: number
  commands: Uint8Array[]
}

/** The leader's answer: where the commands landed, or why they did not. */
export interface ForwardProposeResult {
  type: 'forward-propose-result'
  from: NodeId
  to: NodeId
  term: number
  requestId: number
  /** Index of the first command, or -1 on error. */
  index: number
  entryTerm: number
  errorCode: string
  leaderHint: NodeId | null
}

/** Everything a Raft node sends over its Transport. */
export type RaftWireMessage = RaftMessage | ForwardPropose | ForwardProposeResult

export function isWireMessage (value: unknown): value is RaftWireMessage {
  if (isRaftMessage(value)) return true
  if (typeof value !== 'object' || value === null) return false
  const m = value as { type?: unknown, from?: unknown, to?: unknown, requestId?: unknown }
  return (m.type === 'forward-propose' || m.type === 'forward-propose-result') &&
    typeof m.from === 'string' && typeof m.to === 'string' && typeof m.requestId === 'number'
}
