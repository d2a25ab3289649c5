import { join } from 'node:path'
import { throwIfAborted, type AbortOptions, type HardState, type HardStateStorage } from '@synod/interfaces'
import { raceAbort } from '../util/abort.js'
import { openUnderDirLock, type DirLock } from '../util/dir-lock.js'
import { encodeChecksummedJson, readChecksummedJson, removeIfExists, writeFileAtomic } from '../util/fs.js'
import { Lifecycle } from '../util/lifecycle.js'

/** Where a file hard state store keeps its record. */
export interface FileHardStateStorageInit {
  /** Directory of the record; created if missing, locked while started. */
  dir: string
  /**
   * File name of the record inside `dir` (its lock is `<name>.lock`).
   * @default 'hard-state.json'
   */
  name?: string
}

/**
 * A HardStateStorage in one checksummed JSON file, replaced atomically: temp file, fsync, rename,
 * fsync the directory. A crash leaves the old or the new record, never a mix; a damaged record
 * makes `start()` reject with ERR_CORRUPT. Saves queued behind a save in progress are coalesced:
 * only the newest is written, and all of them resolve once it is durable.
 */
export function createFileHardStateStorage<T = HardState> (init: FileHardStateStorageInit): HardStateStorage<T> {
  return new FileHardStateStorage<T>(init)
}

class FileHardStateStorage<T> implements HardStateStorage<T> {
  private readonly path: string
  private readonly lifecycle = new Lifecycle('file hard state storage')
  private lock: DirLock | undefined
  private current: string | undefined
  private next: { json: string, waiters: Array<{ resolve: () => void, reject: (error: Error) => void }> } | undefined
  private writing: Promise<void> | undefined

  constructor (private readonly init: FileHardStateStorageInit) {
    this.path = join(init.dir, init.name ?? 'hard-state.json')
  }

  async start (): Promise<void> {
    if (this.lifecycle.started) return
    this.lock = await openUnderDirLock(this.init.dir, `${this.init.name ?? 'hard-state.json'}.lock`, async () => {
      await removeIfExists(`${this.path}.tmp`)
      const saved = await readChecksummedJson(this.path)
      this.current = saved === undefined ? undefined : JSON.stringify(saved)
    })
    this.lifecycle.started = true
  }

  async stop (): Promise<void> {
    if (!this.lifecycle.started) return
    this.lifecycle.started = false
    while (this.writing !== undefined) await this.writing
    await this.lock?.release()
    this.lock = undefined
  }

  async load (options?: AbortOptions): Promise<T | undefined> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    const json = this.next?.json ?? this.current
    return json === undefined ? undefined : JSON.parse(json) as T
  }

  async save (state: T, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      const json = JSON.stringify(state)
      await new Promise<void>((resolve, reject) => {
        this.next ??= { json, waiters: [] }
        this.next.json = json
        this.next.waiters.push({ resolve, reject })
        this.writing ??= this.flush().finally(() => { this.writing = undefined })
      })
    })
  }

  private async flush (): Promise<void> {
    while (this.next !== undefined) {
      const { json, waiters } = this.next
      this.next = undefined
      try {
        await writeFileAtomic(this.path, encodeChecksummedJson(JSON.parse(json)))
        this.current = json
        for (const waiter of waiters) waiter.resolve()
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause))
        for (const waiter of waiters) waiter.reject(error)
      }
    }
  }
}
