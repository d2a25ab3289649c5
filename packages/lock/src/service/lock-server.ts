import type { AbortOptions, NodeId } from '@synod/interfaces'
import type { LockCommand, LockResult, SessionId } from '../machine/commands.js'

/** The commands a client may send. Expiry and lock-delay commands come from the leader only. */
export type LockRequest = Exclude<LockCommand, { type: 'expire-session' | 'lift-delay' }>

/** A successful (non-error) result, with the index it was committed at. */
export interface LockResponse {
  index: number
  result: Exclude<LockResult, { type: 'error' }>
}

export interface ExecuteOptions extends AbortOptions {
  /** Give up on the proposal after this long (ERR_TIMEOUT, indeterminate). */
  timeoutMs?: number
}

/** A queued request to wait for. `afterIndex` is the index its acquire was committed at. */
export interface GrantWait {
  session: SessionId
  request: number
  name: string
  afterIndex: number
}

/**
 * What a lock client talks to: one per replica. In-process it is the node's LockService; across a
 * network it is an RPC stub with the same shape.
 */
export interface LockServer {
  /** The replica's node id, matched against ERR_NOT_LEADER's `leaderHint`. */
  readonly id: NodeId
  /**
   * Proposes a request through the log and resolves with its result once applied on this replica.
   * Rejects with ERR_NOT_LEADER (and a hint) when the log cannot take proposals here,
   * ERR_SESSION_EXPIRED when the session has ended, ERR_INVALID_ARGUMENT for a refused request.
   */
  execute(request: LockRequest, options?: ExecuteOptions): Promise<LockResponse>
  /**
   * Resolves with the fencing token once the queued request is granted, as seen by this replica's
   * own state machine, so any replica (leader or follower) can answer. Rejects with
   * ERR_SESSION_EXPIRED if the session ends first and ERR_NOT_HELD if the request was withdrawn.
   */
  awaitGrant(wait: GrantWait, options?: AbortOptions): Promise<{ token: number }>
}
