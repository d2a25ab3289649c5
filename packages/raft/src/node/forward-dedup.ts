import type { NodeId } from '@synod/interfaces'
import type { ForwardProposeResult } from './wire.js'

interface SessionWindow {
  seen: Map<number, ForwardProposeResult | undefined>
  /** Every request id at or below this was seen and forgotten. */
  floor: number
}

/**
 * Remembers which forwarded proposal requests a leader already handled, so a request the network
 * delivered twice is never appended twice (a duplicated command would take effect twice). Requests
 * are named by the follower's session (one per process start) and a per-session counter; the
 * answer to a duplicate is the original answer, resent.
 */
export class ForwardDedup {
  readonly #sessions = new Map<string, SessionWindow>()

  constructor (readonly windowPerSession = 4096, readonly maxSessions = 1024) {}

  /** 'new' if never handled; otherwise the earlier answer (undefined when it was forgotten). */
  lookup (from: NodeId, session: string, requestId: number): 'new' | ForwardProposeResult | undefined {
    const window = this.#sessions.get(`${from}/${session}`)
    if (window === undefined) return 'new'
    if (requestId <= window.floor) return undefined
    if (!window.seen.has(requestId)) return 'new'
    return window.seen.get(requestId)
  }

  record (from: NodeId, session: string, requestId: number, reply: ForwardProposeResult): void {
    const key = `${from}/${session}`
    let window = this.#sessions.get(key)
    if (window === undefined) {
      if (this.#sessions.size >= this.maxSessions) {
        const oldest = this.#sessions.keys().next().value
        if (oldest !== undefined) this.#sessions.delete(oldest)
      }
      window = { seen: new Map(), floor: 0 }
      this.#sessions.set(key, window)
    }
    window.seen.set(requestId, reply)
    while (window.seen.size > this.windowPerSession) {
      const oldest = window.seen.keys().next().value
      if (oldest === undefined) break
      window.seen.delete(oldest)
      if (oldest > window.floor) window.floor = oldest
    }
  }
}
