import type { NodeId } from '@synod/interfaces'
import type { PaxosMessage } from '../core/index.js'
import { isPaxosMessage } from '../core/index.js'

/** A follower forwarding proposals to the leader (driver level: the core never sees it). */
export interface ForwardPropose {
  type: 'forward-propose'
  from: NodeId
  to: NodeId
  /** Random per node incarnation: with `requestId` it identifies the batch, so duplicates are answered once. */
  session: number
  requestId: number
  commands: Uint8Array[]
}

/** The leader's answer: where the commands landed, or why they did not. */
export interface ForwardProposeResult {
  type: 'forward-propose-result'
  from: NodeId
  to: NodeId
  requestId: number
  /** Slot of the first command, or -1 on error. */
  index: number
  round: number
  errorCode: string
  leaderHint: NodeId | null
}

/** Everything a Paxos node sends over its Transport. */
export type PaxosWireMessage = PaxosMessage | ForwardPropose | ForwardProposeResult

export function isWireMessage (value: unknown): value is PaxosWireMessage {
  if (isPaxosMessage(value)) return true
  if (typeof value !== 'object' || value === null) return false
  const m = value as { type?: unknown, from?: unknown, to?: unknown, requestId?: unknown }
  return (m.type === 'forward-propose' || m.type === 'forward-propose-result') &&
    typeof m.from === 'string' && typeof m.to === 'string' && typeof m.requestId === 'number'
}
