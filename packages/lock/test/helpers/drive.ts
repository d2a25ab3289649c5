import type { LockServer } from '../../src/index.js'
import { TimeoutError } from '@synod/interfaces'
import type { VirtualClock } from './virtual-clock.js'

/** Advances virtual time until `promise` settles (or `limitMs` passes), then returns its outcome. */
export async function drive<T> (clock: VirtualClock, promise: Promise<T>, limitMs = 60_000, stepMs = 10): Promise<T> {
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  await clock.until(() => settled, limitMs, stepMs)
  if (!settled) throw new Error(`still pending after ${limitMs} ms of virtual time`)
  return await promise
}

/** Wraps servers so a test can cut one client off the cluster (every request times out). */
export function cuttable (servers: LockServer[]): { servers: LockServer[], cut: (on: boolean) => void } {
  let isCut = false
  return {
    cut: (on) => { isCut = on },
    servers: servers.map((server) => ({
      id: server.id,
      execute: async (request, options) => {
        if (isCut) throw new TimeoutError('unreachable', { indeterminate: true })
        return await server.execute(request, options)
      },
      awaitGrant: async (wait, options) => {
        if (isCut) {
          // An unreachable replica never answers; only the caller's signal ends the wait.
          return await new Promise((_resolve, reject) => {
            options?.signal?.addEventListener('abort', () => { reject(new Error('aborted')) }, { once: true })
          })
        }
        return await server.awaitGrant(wait, options)
      }
    }))
  }
}
