import type { AbortOptions } from '@synod/interfaces'
import type { ExecuteOptions, GrantWait, LockRequest, LockResponse, LockServer } from '@synod/lock'
import type { CallOptions } from '../options.js'
import type { WireRequest } from '../wire.js'

/** How the stub sends one request: the client's routed, retried call, writes to the leader. */
export type LockCall = (request: WireRequest, options: CallOptions) => Promise<unknown>

/** The node caps a proposal's timeout at this (`MAX_LOCK_TIMEOUT_MS` of the node's API). */
const MAX_SERVER_TIMEOUT_MS = 60_000

/** Node id `@synod/lock`'s router knows this stub by; leader hints name real nodes, never this. */
export const CLUSTER_LOCK_SERVER_ID = 'synod-cluster'

/**
 * `@synod/lock`'s `LockServer` over the node's WebSocket API (`lock.execute`, `lock.awaitGrant`).
 *
 * It stands for the whole cluster rather than one replica: each call goes through the client's
 * routing (the leader once known, leader hints followed, retries with backoff on refusals and lost
 * connections). Lock requests carry their own (session, request) ids and the lock state machine
 * answers a resend with the first outcome, so resending after a lost answer is safe; an
 * `open-session` resent after a lost answer may open a second session, which holds nothing and
 * expires after its TTL.
 *
 * Grant waits go to the leader too: it applies an entry first, so it is the first to learn of a
 * grant and pushes the answer at once.
 */
export function createClusterLockServer (call: LockCall): LockServer {
  return {
    id: CLUSTER_LOCK_SERVER_ID,
    async execute (request: LockRequest, options: ExecuteOptions = {}): Promise<LockResponse> {
      const wire: WireRequest = { op: 'lock.execute', request }
      const callOptions: CallOptions = {}
      if (options.signal !== undefined) callOptions.signal = options.signal
      if (options.timeoutMs !== undefined) {
        callOptions.timeoutMs = options.timeoutMs
        // The node gives up on the proposal when the caller would have (at least 1 ms, at most its cap).
        wire.timeoutMs = Math.min(MAX_SERVER_TIMEOUT_MS, Math.max(1, Math.ceil(options.timeoutMs)))
      }
      return await call(wire, callOptions) as LockResponse
    },
    async awaitGrant (wait: GrantWait, options: AbortOptions = {}): Promise<{ token: number }> {
      // No deadline: the wait lasts until the grant, the session's end or the caller's signal.
      const callOptions: CallOptions = { timeoutMs: Number.POSITIVE_INFINITY }
      if (options.signal !== undefined) callOptions.signal = options.signal
      return await call({ op: 'lock.awaitGrant', wait }, callOptions) as { token: number }
    }
  }
}
