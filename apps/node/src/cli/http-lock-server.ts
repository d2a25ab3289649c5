import {
  AbortError, InvalidArgumentError, NotHeldError, NotLeaderError, SessionExpiredError, StoppedError, SynodError, TimeoutError,
  type AbortOptions
} from '@synod/interfaces'
import type { ExecuteOptions, GrantWait, LockRequest, LockResponse, LockServer } from '@synod/lock'

/**
 * A LockServer that talks to one node's `/v1/locks/*` routes, so `@synod/lock`'s client runs
 * unchanged across the network. `id` is the node's id, learned from `/v1/status`.
 */
export async function connectHttpLockServer (endpoint: string, token?: string): Promise<LockServer | undefined> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }
  let id: string
  try {
    const res = await fetch(new URL('/v1/status', endpoint), { headers, signal: AbortSignal.timeout(2000) })
    id = ((await res.json()) as { id: string }).id
  } catch {
    return undefined
  }

  async function post<T> (path: string, body: unknown, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T> {
    const signals = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s !== undefined)
    let res: Response
    try {
      res = await fetch(new URL(path, endpoint), { method: 'POST', headers, body: JSON.stringify(body), signal: signals.length === 0 ? undefined : AbortSignal.any(signals) })
    } catch (err) {
      if (signal?.aborted === true) throw new AbortError(undefined, { indeterminate: true })
      if ((err as Error).name === 'TimeoutError') throw new TimeoutError(`no answer from ${endpoint}`, { indeterminate: true })
      throw new StoppedError(`${endpoint} is unreachable`)
    }
    const json = await res.json() as Record<string, unknown>
    const error = json.error as { code?: string, message?: string, leaderHint?: string } | undefined
    if (error === undefined) return json as T
    const message = error.message ?? 'lock request refused'
    switch (error.code) {
      case 'ERR_NOT_LEADER': throw new NotLeaderError(message, { leaderHint: error.leaderHint })
      case 'ERR_SESSION_EXPIRED': throw new SessionExpiredError(message)
      case 'ERR_NOT_HELD': throw new NotHeldError(message)
      case 'ERR_INVALID_ARGUMENT': throw new InvalidArgumentError(message)
      case 'ERR_TIMEOUT': throw new TimeoutError(message, { indeterminate: true })
      default: throw new SynodError(message, error.code ?? 'ERR_INTERNAL')
    }
  }

  return {
    id,
    execute: async (request: LockRequest, options?: ExecuteOptions) => post<LockResponse>('/v1/locks/execute', request, options?.signal, options?.timeoutMs),
    awaitGrant: async (wait: GrantWait, options?: AbortOptions) => post<{ token: number }>('/v1/locks/await-grant', wait, options?.signal, undefined)
  }
}
