import { AbortError } from './errors.js'

/** Options every async method accepts (libp2p's AbortOptions). */
export interface AbortOptions {
  /** Aborts the operation; it rejects with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined
}

/** Throws `ERR_ABORTED` if the signal has fired. */
export function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
}
