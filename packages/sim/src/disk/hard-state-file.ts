import { NotStartedError, throwIfAborted, type AbortOptions, type HardStateStorage } from '@synod/interfaces'
import { deadHandleError, type DurableFile, type FileModel } from './durable-file.js'

export interface RecordState { value: unknown }
export interface RecordOp { value: unknown }

/** A record replaced atomically: after a crash it holds the old value or the new one, never a mix. */
export const recordModel: FileModel<RecordState, RecordOp> = {
  kind: 'hard-state',
  empty: () => ({ value: undefined }),
  copy: (state) => ({ value: state.value }),
  apply (state, op) { state.value = op.value },
  tear: (op, random) => random.chance(0.5) ? op : undefined,
  describe: () => 'replace'
}

/** A `HardStateStorage` handle over a simulated file, valid until its process crashes. */
export class SimHardStateStorage<T> implements HardStateStorage<T> {
  readonly #file: DurableFile<RecordState, RecordOp>
  readonly #alive: () => boolean
  #started = false

  constructor (file: DurableFile<RecordState, RecordOp>, alive: () => boolean) {
    this.#file = file
    this.#alive = alive
  }

  async start (): Promise<void> {
    if (!this.#alive()) throw deadHandleError('hard state')
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#alive()) await this.#file.flush()
  }

  async load (options?: AbortOptions): Promise<T | undefined> {
    this.#check(options)
    const value = this.#file.cache.value
    return value === undefined ? undefined : structuredClone(value) as T
  }

  async save (state: T, options?: AbortOptions): Promise<void> {
    this.#check(options)
    // Stored as a deep copy: later changes by the caller must not reach the "disk".
    await this.#file.write({ value: structuredClone(state) })
  }

  #check (options: AbortOptions | undefined): void {
    if (!this.#alive()) throw deadHandleError('hard state')
    if (!this.#started) throw new NotStartedError('hard state storage is not started')
    throwIfAborted(options?.signal)
  }
}
