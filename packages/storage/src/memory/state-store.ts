import { InvalidArgumentError, throwIfAborted, type AbortOptions, type RangeQuery, type StateBatch, type StateStore } from '@synod/interfaces'
import { decodeExport, encodeExport } from '../state-store/export-codec.js'
import { compareKeys, inRange } from '../state-store/range.js'
import { raceAbort } from '../util/abort.js'
import { Lifecycle } from '../util/lifecycle.js'

/**
 * A StateStore kept in memory, for tests and the simulator. Its export format is the same as the
 * LMDB store's, so snapshots move between the two.
 */
export function createMemoryStateStore (): StateStore {
  return new MemoryStateStore()
}

class MemoryStateStore implements StateStore {
  private readonly lifecycle = new Lifecycle('memory state store')
  private data = new Map<string, Uint8Array>()
  private applied = 0

  async start (): Promise<void> { this.lifecycle.started = true }
  async stop (): Promise<void> { this.lifecycle.started = false }

  get (key: string): Uint8Array | undefined {
    this.lifecycle.assert()
    const value = this.data.get(key)
    return value === undefined ? undefined : new Uint8Array(value)
  }

  range (query: RangeQuery): Array<[string, Uint8Array]> {
    this.lifecycle.assert()
    const keys = [...this.data.keys()].filter((key) => inRange(key, query)).sort(compareKeys)
    return keys.slice(0, query.limit ?? keys.length).map((key) => [key, new Uint8Array(this.data.get(key) as Uint8Array)])
  }

  appliedIndex (): number {
    return this.applied
  }

  async write (batch: StateBatch, appliedIndex: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      validateApplied(appliedIndex)
      for (const [key, value] of batch.puts ?? []) this.data.set(key, new Uint8Array(value))
      for (const key of batch.deletes ?? []) this.data.delete(key)
      this.applied = appliedIndex
    })
  }

  async * exportSnapshot (options?: AbortOptions): AsyncIterable<Uint8Array> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    // Copy-on-export: later writes replace values in `data`, never mutate the copies taken here.
    const pairs = [...this.data.entries()].sort(([a], [b]) => compareKeys(a, b))
    yield * encodeExport(this.applied, pairs, undefined, options?.signal)
  }

  async importSnapshot (chunks: AsyncIterable<Uint8Array>, appliedIndex: number, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateApplied(appliedIndex)
    const staged = new Map<string, Uint8Array>()
    await decodeExport(chunks, (key, value) => { staged.set(key, value) }, options?.signal)
    throwIfAborted(options?.signal)
    this.data = staged
    this.applied = appliedIndex
  }
}

export function validateApplied (appliedIndex: number): void {
  if (!Number.isSafeInteger(appliedIndex) || appliedIndex < 0) {
    throw new InvalidArgumentError(`appliedIndex must be a non-negative integer, got ${appliedIndex}`, { field: 'appliedIndex' })
  }
}
