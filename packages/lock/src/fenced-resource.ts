import { InvalidArgumentError, NotHeldError } from '@synod/interfaces'

/**
 * A resource that accepts changes only with a fencing token at least as high as any it has seen
 * (Kleppmann's fix for lease-based locks). The token check and the change happen in one synchronous
 * step: that atomicity, at the resource, is what makes fencing work. A real store does the same with
 * a conditional write (`UPDATE ... WHERE fence <= $token`, a compare-and-set on a token column).
 */
export interface FencedResource<T> {
  /** The current value. Reads need no token. */
  read(): T
  /** The highest token accepted so far; 0 before the first change. */
  readonly highestToken: number
  /**
   * Applies `change` if `token` is not older than the highest token seen, and records it.
   * Throws ERR_NOT_HELD (without changing anything) for a stale token: its holder lost the lock.
   */
  update(token: number, change: (current: T) => T): T
}

class Fenced<T> implements FencedResource<T> {
  #value: T
  #highestToken = 0

  constructor (initial: T) {
    this.#value = initial
  }

  get highestToken (): number {
    return this.#highestToken
  }

  read (): T {
    return this.#value
  }

  update (token: number, change: (current: T) => T): T {
    if (!Number.isSafeInteger(token) || token < 1) throw new InvalidArgumentError(`fencing token ${token} is not a positive integer`, { field: 'token' })
    // Equal tokens are accepted: the same holder may change the resource many times.
    if (token < this.#highestToken) throw new NotHeldError(`stale fencing token ${token}: token ${this.#highestToken} has been used since`)
    this.#value = change(this.#value)
    this.#highestToken = token
    return this.#value
  }
}

/** Creates an in-memory fenced resource holding `initial`. */
export function createFencedResource<T> (initial: T): FencedResource<T> {
  return new Fenced(initial)
}
