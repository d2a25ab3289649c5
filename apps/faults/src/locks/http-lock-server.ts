import {
  AbortError, InvalidArgumentError, NotHeldError, NotLeaderError, SessionExpiredError, StoppedError, SynodError, TimeoutError,
  type AbortOptions
} from '@synod/interfaces'
import type { ExecuteOptions, GrantWait, LockRequest, LockResponse, LockServer } from '@synod/lock'

/**
 * Pauses a lock client's traffic, as a stop-the-world pause of the client process would: while
 * the gate is closed no request leaves (keepalives included), so the client's session expires on
 * the cluster while the client's own code still holds the lock and its fencing token.
 */
export interface TrafficGate {
  readonly closed: boolean
  close(): void
  open(): void
  /** Resolves when the gate is open. */
  passed(signal?: AbortSignal): Promise<void>
}

export function createTrafficGate (): TrafficGate {
  let waiters: Array<() => void> = []
  let closed = false
  return {
    get closed () { return closed },
    close () { closed = true },
    open () {
      closed = false
      const ready = waiters
      waiters = []
      for (const wake of ready) wake()
    },
    async passed (signal) {
      if (!closed) return
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
        const onAbort = (): void => { waiters = waiters.filter((w) => w !== wake); reject(new AbortError(undefined, { indeterminate: true })) }
        signal?.addEventListener('abort', onAbort, { once: true })
        waiters.push(wake)
      })
    }
  }
}

const errorFrom = (error: { code?: string, message?: string, leaderHint?: string }): Error => {
  const message = error.message ?? 'lock request refused'
  switch (error.code) {
    case 'ERR_NOT_LEADER': return new NotLeaderError(message, { leaderHint: error.leaderHint })
    case 'ERR_SESSION_EXPIRED': return new SessionExpiredError(message)
    case 'ERR_NOT_HELD': return new NotHeldError(message)
    case 'ERR_INVALID_ARGUMENT': return new InvalidArgumentError(message)
    case 'ERR_TIMEOUT': return new TimeoutError(message, { indeterminate: true })
    default: return new SynodError(message, error.code ?? 'ERR_INTERNAL')
  }
}

/**
 * A `LockServer` stub for one node's `/v1/locks/execute` and `/v1/locks/await-grant` routes
 * (docs/http-api.md), so `@synod/lock`'s own client runs unchanged against the real cluster.
 * Every request first passes `gate`.
 */
export function createHttpLockServer (id: string, baseUrl: string, gate: TrafficGate): LockServer {
  async function post<T> (path: string, body: unknown, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T> {
    // A paused client sends nothing; the attempt's own timeout still runs, as it would in a paused process's view.
    const signals = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s !== undefined)
    const combined = signals.length === 0 ? undefined : AbortSignal.any(signals)
    try {
      await gate.passed(combined)
    } catch {
      if (signal?.aborted === true) throw new AbortError(undefined, { indeterminate: true })
      throw new TimeoutError(`client paused: nothing sent to ${id}`, { indeterminate: false })
    }
    let res: Response
    try {
      res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: combined })
    } catch (err) {
      if (signal?.aborted === true) throw new AbortError(undefined, { indeterminate: true })
      if ((err as Error).name === 'TimeoutError') throw new TimeoutError(`no answer from ${id}`, { indeterminate: true })
      throw new StoppedError(`${id} is unreachable`)
    }
    let json: Record<string, unknown>
    try {
      json = await res.json() as Record<string, unknown>
    } catch {
      throw new TimeoutError(`${id} answered HTTP ${res.status} without a body`, { indeterminate: true })
    }
    const error = json.error as { code?: string, message?: string, leaderHint?: string } | undefined
    if (error === undefined) return json as T
    throw errorFrom(error)
  }
  return {
    id,
    execute: async (request: LockRequest, options?: ExecuteOptions) => await post<LockResponse>('/v1/locks/execute', request, options?.signal, options?.timeoutMs),
    awaitGrant: async (wait: GrantWait, options?: AbortOptions) => await post<{ token: number }>('/v1/locks/await-grant', wait, options?.signal, undefined)
  }
}
