import { AbortError, throwIfAborted } from '@synod/interfaces'

/**
 * Starts `operation` unless `signal` has already fired (then rejects with `ERR_ABORTED` and does
 * nothing), and waits for it, rejecting early with an indeterminate `ERR_ABORTED` if `signal` fires
 * meanwhile.
 *
 * The operation itself keeps running: storage mutations are queued in call order, and pulling one
 * out of the queue would invalidate the mutations validated after it. So a late abort only releases
 * the caller, who must treat the outcome as unknown (it may still become durable).
 */
export async function raceAbort<T> (signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
  throwIfAborted(signal)
  return await releaseOnAbort(signal, operation())
}

/**
 * `running`, or (if `signal` fires first) an indeterminate `ERR_ABORTED` while `running` carries
 * on. Without a signal it returns `running` itself: no extra promise on a hot path.
 */
export function releaseOnAbort<T> (signal: AbortSignal | undefined, running: Promise<T>): Promise<T> {
  if (signal === undefined) return running
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new AbortError(undefined, { indeterminate: true, cause: signal.reason })) }
    signal.addEventListener('abort', onAbort, { once: true })
    running.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value) },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error instanceof Error ? error : new Error(String(error))) }
    )
  })
}
