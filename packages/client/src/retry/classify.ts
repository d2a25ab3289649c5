import { isSynodError } from '@synod/interfaces'

/**
 * What a failed attempt tells about the operation:
 * - `refused`: the node answered that it did not act (not the leader, overloaded, proposal dropped
 *   before entering the log) or the request never left the client (no connection). Safe to resend.
 * - `lost`: the request may have reached the log (connection lost mid-request, the node stopped or
 *   timed out a proposal). Resending is safe for reads and for writes the state machine deduplicates.
 * - `final`: an answer: bad argument, unauthorized, too large, internal error. Never resent.
 */
export type AttemptFailure = 'refused' | 'lost' | 'final'

const REFUSED = new Set(['ERR_NOT_LEADER', 'ERR_OVERLOADED', 'ERR_PROPOSAL_DROPPED', 'ERR_NOT_STARTED'])
const LOST = new Set(['ERR_STOPPED', 'ERR_ABORTED', 'ERR_UNAVAILABLE'])

/** Classifies an error thrown by a request that was sent. */
export function classifyFailure (error: unknown): AttemptFailure {
  if (!isSynodError(error)) return 'lost'
  if (REFUSED.has(error.code)) return 'refused'
  if (error.code === 'ERR_TIMEOUT') return (error as { indeterminate?: unknown }).indeterminate === false ? 'refused' : 'lost'
  if (LOST.has(error.code)) return 'lost'
  return 'final'
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelay (retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(retry - 1, 30))
  return random() * ceiling
}
