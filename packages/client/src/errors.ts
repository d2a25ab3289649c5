import { SynodError } from '@synod/interfaces'

/** No node could be reached (refused, reset, timed out while connecting). Nothing was sent. */
export class UnavailableError extends SynodError {
  static override readonly code = 'ERR_UNAVAILABLE'
  constructor (message = 'no node reachable', options?: { cause?: unknown }) {
    super(message, UnavailableError.code, options)
    this.name = 'UnavailableError'
  }
}

/** Marks an error as "the operation may or may not have taken effect". */
export function markIndeterminate<E> (error: E, indeterminate: boolean): E {
  if (typeof error === 'object' && error !== null) {
    try {
      Object.defineProperty(error, 'indeterminate', { value: indeterminate, enumerable: true, configurable: true, writable: true })
    } catch {
      // A frozen error keeps what it says.
    }
  }
  return error
}

/** A node answered with something that does not have the shape the protocol promises. */
export class BadResponseError extends SynodError {
  static override readonly code = 'ERR_BAD_RESPONSE'
  constructor (message = 'malformed response', options?: { cause?: unknown }) {
    super(message, BadResponseError.code, options)
    this.name = 'BadResponseError'
  }
}
