import { AbortError, type Clock } from '@synod/interfaces'

/** Resolves or rejects with `promise`, or rejects with `ERR_ABORTED` as soon as `signal` fires. */
export async function raceSignal<T> (promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) throw new AbortError(undefined, { cause: signal.reason })
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new AbortError(undefined, { cause: signal.reason })) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((value) => {
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }, (error: unknown) => {
      signal.removeEventListener('abort', onAbort)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever the promise rejected with
      reject(error)
    })
  })
}

/** Waits `ms` on the clock; rejects with `ERR_ABORTED` when `signal` fires first. */
export async function sleep (clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new AbortError(undefined, { cause: signal.reason })
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer)
      reject(new AbortError(undefined, { cause: signal.reason }))
    }
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
