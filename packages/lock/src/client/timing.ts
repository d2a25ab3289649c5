import { AbortError } from '@synod/interfaces'
import type { Clock } from '@synod/interfaces'

/** Waits `ms` on the injected clock; rejects with the signal's reason (or ERR_ABORTED) if it fires first. */
export async function sleep (clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) throw abortReason(signal)
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer)
      reject(abortReason(signal as AbortSignal))
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The error to throw for an aborted signal: its reason if that is an Error, else ERR_ABORTED. */
export function abortReason (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new AbortError(undefined, { cause: reason })
}

/** Aborts `controller` when any of `signals` aborts; returns a function that unlinks them. */
export function linkSignals (controller: AbortController, signals: Array<AbortSignal | undefined>): () => void {
  const unlinks: Array<() => void> = []
  for (const signal of signals) {
    if (signal === undefined) continue
    if (signal.aborted) {
      controller.abort(signal.reason)
      break
    }
    const onAbort = (): void => { controller.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    unlinks.push(() => { signal.removeEventListener('abort', onAbort) })
  }
  return () => { for (const unlink of unlinks) unlink() }
}

/** True once `signal` has fired (a function, so TypeScript does not narrow it across awaits). */
export function isAborted (signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true
}
