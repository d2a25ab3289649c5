import { createClient, type SynodClient } from '@synod/client'
import { AbortError, TimeoutError, type AbortOptions } from '@synod/interfaces'
import type { ExecuteOptions, GrantWait, LockRequest, LockServer } from '@synod/lock'
import type { TrafficGate } from './http-lock-server.js'

/**
 * The lock path a user of `@synod/client` takes: the client's own `LockServer`, which sends
 * `lock.execute` and `lock.awaitGrant` over the node's WebSocket API with the client's routing and
 * retries, behind the same traffic gate as the HTTP stub (a paused client sends nothing).
 */
export function createWsLockServer (endpoints: readonly string[], gate: TrafficGate): { server: LockServer, client: SynodClient } {
  const client = createClient({ endpoints: [...endpoints] })
  const inner = client.lockServer
  const pass = async (signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<void> => {
    const signals = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s !== undefined)
    try {
      await gate.passed(signals.length === 0 ? undefined : AbortSignal.any(signals))
    } catch {
      if (signal?.aborted === true) throw new AbortError(undefined, { indeterminate: true })
      throw new TimeoutError('client paused: nothing sent', { indeterminate: false })
    }
  }
  const server: LockServer = {
    id: inner.id,
    async execute (request: LockRequest, options?: ExecuteOptions) {
      await pass(options?.signal, options?.timeoutMs)
      return await inner.execute(request, options)
    },
    async awaitGrant (wait: GrantWait, options?: AbortOptions) {
      await pass(options?.signal, undefined)
      return await inner.awaitGrant(wait, options)
    }
  }
  return { server, client }
}
