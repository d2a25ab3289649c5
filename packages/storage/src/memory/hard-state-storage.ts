import { throwIfAborted, type AbortOptions, type HardState, type HardStateStorage } from '@synod/interfaces'
import { raceAbort } from '../util/abort.js'
import { Lifecycle } from '../util/lifecycle.js'

/**
 * A HardStateStorage kept in memory, for tests and the simulator. Values are deep-copied through
 * JSON, so a saved object cannot be changed behind the store's back and a non-JSON value fails
 * here as it would on disk.
 */
export function createMemoryHardStateStorage<T = HardState> (): HardStateStorage<T> {
  return new MemoryHardStateStorage<T>()
}

class MemoryHardStateStorage<T> implements HardStateStorage<T> {
  private readonly lifecycle = new Lifecycle('memory hard state storage')
  private saved: string | undefined

  async start (): Promise<void> { this.lifecycle.started = true }
  async stop (): Promise<void> { this.lifecycle.started = false }

  async load (options?: AbortOptions): Promise<T | undefined> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    return this.saved === undefined ? undefined : JSON.parse(this.saved) as T
  }

  async save (state: T, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      this.saved = JSON.stringify(state)
    })
  }
}
