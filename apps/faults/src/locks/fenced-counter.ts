import { createFencedResource, type FencedResource } from '@synod/lock'

/** One access to the fenced counter, in the order the counter saw them. */
export interface CounterAccess {
  readonly kind: 'read' | 'write'
  /** Which grant (one resolved `acquire`) made the access. */
  readonly grant: number
  readonly token: number
  readonly accepted: boolean
  /** Milliseconds since the workload started. */
  readonly atMs: number
  /** The value read, or the value written. */
  readonly value: number
}

/**
 * The resource the lock workload protects: an integer counter behind `@synod/lock`'s
 * `createFencedResource`, which refuses a token lower than the highest it has seen. Every access is
 * recorded so the checker can replay the counter's decisions independently.
 */
export interface FencedCounter {
  /** Reads as the holder of `token` (this raises the fence); `undefined` when refused as stale. */
  read(grant: number, token: number): number | undefined
  /** Writes `value` (computed from an earlier read) as the holder of `token`; false when refused as stale. */
  write(grant: number, token: number, value: number): boolean
  /** The value now, read without a token. */
  peek(): number
  readonly accesses: readonly CounterAccess[]
}

export function createFencedCounter (now: () => number): FencedCounter {
  const resource: FencedResource<number> = createFencedResource(0)
  const accesses: CounterAccess[] = []
  const isStale = (error: unknown): boolean => (error as { code?: string }).code === 'ERR_NOT_HELD'
  return {
    accesses,
    peek: () => resource.peek(),
    read (grant, token) {
      try {
        const value = resource.read(token)
        accesses.push({ kind: 'read', grant, token, accepted: true, atMs: now(), value })
        return value
      } catch (error) {
        if (!isStale(error)) throw error
        accesses.push({ kind: 'read', grant, token, accepted: false, atMs: now(), value: resource.peek() })
        return undefined
      }
    },
    write (grant, token, value) {
      try {
        // A read-modify-write split across an await: the value was computed from an earlier read,
        // so an interleaved write by another holder would be lost unless the fence refuses one of them.
        resource.update(token, () => value)
        accesses.push({ kind: 'write', grant, token, accepted: true, atMs: now(), value })
        return true
      } catch (error) {
        if (!isStale(error)) throw error
        accesses.push({ kind: 'write', grant, token, accepted: false, atMs: now(), value })
        return false
      }
    }
  }
}
