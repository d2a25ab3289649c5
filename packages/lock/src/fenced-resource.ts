import { InvalidArgumentError, NotHeldError } from '@synod/interfaces'

/**
 * A resource that accepts access only with a fencing token at least as high as any it has seen
 * (Kleppmann's fix for lease-based locks). The token check and the access happen in one synchronous
 * step: that atomicity, at the resource, is what makes fencing work. A real store does the same with
 * a conditional write (`UPDATE ... WHERE fence <= $token`, a compare-and-set on a token column).
 *
 * Fence the reads of a critical section too, not only its writes: in a read-modify-write, a paused
 * old holder can write between a new holder's read and its write. Only if the new holder's read
 * already raised the fence is that stale write refused; otherwise the new holder's write, accepted
 * with its higher token, silently overwrites it with a value computed from before it.
 */
export interface FencedResource<T> {
  /** The highest token seen so far; 0 before the first access. */
  readonly highestToken: number
  /** Reads the value as the holder of `token`, raising the fence to it. Throws ERR_NOT_HELD for a stale token. */
  read(token: number): T
  /** Reads the value without a token (for observers outside any critical section). */
  peek(): T
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

  read (token: number): T {
    this.#admit(token)
    return this.#value
  }

  peek (): T {
    return this.#value
  }

  update (token: number, change: (current: T) => T): T {
    this.#check(token)
    this.#value = change(this.#value)
    this.#highestToken = token
    return this.#value
  }

  #admit (token: number): void {
    this.#check(token)
    this.#highestToken = token
  }

  #check (token: number): void {
    if (!Number.isSafeInteger(token) || token < 1) throw new InvalidArgumentError(`fencing token ${token} is not a positive integer`, { field: 'token' })
    // Equal tokens are accepted: the same holder may use the resource many times.
    if (token < this.#highestToken) throw new NotHeldError(`stale fencing token ${token}: token ${this.#highestToken} has been used since`)
  }
}

/** Creates an in-memory fenced resource holding `initial`. */
export function createFencedResource<T> (initial: T): FencedResource<T> {
  return new Fenced(initial)
}
