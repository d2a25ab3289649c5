import {
  CorruptionError, InvalidArgumentError, NotFoundError, NotStartedError, throwIfAborted,
  type AbortOptions, type SnapshotMeta, type SnapshotStorage, type SnapshotWriter
} from '@synod/interfaces'
import { crc32Label } from './crc32.js'
import { deadHandleError, type DurableFile, type FileModel } from './durable-file.js'

type BeginMeta = Pick<SnapshotMeta, 'index' | 'term' | 'config'>

interface Installed {
  meta: SnapshotMeta
  data: Uint8Array
}

interface Partial {
  /** Distinguishes two writers of the same snapshot id. */
  id: number
  meta: BeginMeta
  chunks: Uint8Array[]
  bytes: number
}

export interface SnapshotState {
  /** Installed snapshots, oldest first. */
  installed: Installed[]
  partial: Partial | undefined
}

export type SnapshotOp =
  | { type: 'begin', partial: Partial }
  | { type: 'write', id: number, chunk: Uint8Array }
  | { type: 'resume', id: number, newId: number }
  | { type: 'install', id: number, snapshot: Installed }
  | { type: 'discard', id: number }
  | { type: 'prune', keep: number }

const copyPartial = (partial: Partial | undefined): Partial | undefined =>
  partial === undefined ? undefined : { ...partial, chunks: partial.chunks.slice() }

export const snapshotModel: FileModel<SnapshotState, SnapshotOp> = {
  kind: 'snapshots',
  empty: () => ({ installed: [], partial: undefined }),
  copy: (state) => ({ installed: state.installed.slice(), partial: copyPartial(state.partial) }),
  apply (state, op) {
    switch (op.type) {
      case 'begin':
        state.partial = copyPartial(op.partial)
        return
      case 'write':
        if (state.partial?.id === op.id) {
          state.partial.chunks.push(op.chunk)
          state.partial.bytes += op.chunk.byteLength
        }
        return
      case 'resume':
        if (state.partial?.id === op.id) state.partial = { ...state.partial, id: op.newId, chunks: state.partial.chunks.slice() }
        return
      case 'install':
        state.installed = state.installed.filter((snapshot) => snapshot.meta.index !== op.snapshot.meta.index)
        state.installed.push(op.snapshot)
        state.installed.sort((a, b) => a.meta.index - b.meta.index)
        if (state.partial?.id === op.id) state.partial = undefined
        return
      case 'discard':
        if (state.partial?.id === op.id) state.partial = undefined
        return
      case 'prune':
        if (state.installed.length > op.keep) state.installed = state.installed.slice(state.installed.length - op.keep)
    }
  },
  // A chunk write or an install (rename) either reached the platter or did not.
  tear: (op, random) => random.chance(0.5) ? op : undefined,
  describe: (op) => op.type
}

let nextPartialId = 1

/** A simulated `SnapshotStorage`, with a hook for bit rot. */
export interface SimSnapshotStorage extends SnapshotStorage {
  /** Flips one byte of installed snapshot `index` (reads then fail with ERR_CORRUPT). False if there is no such snapshot. */
  corrupt(index: number): boolean
}

/** A `SnapshotStorage` handle over a simulated directory, valid until its process crashes. */
export class SimSnapshotStorageHandle implements SimSnapshotStorage {
  readonly #file: DurableFile<SnapshotState, SnapshotOp>
  readonly #alive: () => boolean
  #started = false

  constructor (file: DurableFile<SnapshotState, SnapshotOp>, alive: () => boolean) {
    this.#file = file
    this.#alive = alive
  }

  async start (): Promise<void> {
    if (!this.#alive()) throw deadHandleError('snapshot')
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#alive()) await this.#file.flush()
  }

  async latest (options?: AbortOptions): Promise<SnapshotMeta | undefined> {
    this.#check(options)
    const newest = this.#file.cache.installed.at(-1)
    return newest === undefined ? undefined : structuredClone(newest.meta)
  }

  async begin (meta: BeginMeta, options?: AbortOptions): Promise<SnapshotWriter> {
    this.#check(options)
    const current = this.#file.cache.partial
    if (current !== undefined && current.meta.index === meta.index && current.meta.term === meta.term) {
      // The resumed writer gets a new id, so the writer it supersedes can no longer add chunks.
      const newId = nextPartialId++
      await this.#file.write({ type: 'resume', id: current.id, newId })
      return new Writer(this, newId, current.meta, current.bytes)
    }
    const partial: Partial = { id: nextPartialId++, meta: structuredClone({ index: meta.index, term: meta.term, config: meta.config }), chunks: [], bytes: 0 }
    await this.#file.write({ type: 'begin', partial })
    return new Writer(this, partial.id, partial.meta, 0)
  }

  async * read (options?: AbortOptions & { index?: number, offset?: number, chunkSize?: number }): AsyncIterable<Uint8Array> {
    this.#check(options)
    const installed = this.#file.cache.installed
    const snapshot = options?.index === undefined ? installed.at(-1) : installed.find((candidate) => candidate.meta.index === options.index)
    if (snapshot === undefined) throw new NotFoundError(`snapshot ${options?.index ?? 'latest'} not found`)
    if (crc32Label([snapshot.data]) !== snapshot.meta.checksum) {
      throw new CorruptionError(`snapshot ${snapshot.meta.index} fails its checksum`, { file: `snapshot-${snapshot.meta.index}` })
    }
    const chunkSize = Math.max(1, options?.chunkSize ?? 64 * 1024)
    for (let offset = options?.offset ?? 0; offset < snapshot.data.byteLength; offset += chunkSize) {
      throwIfAborted(options?.signal)
      yield snapshot.data.slice(offset, offset + chunkSize)
    }
  }

  async prune (keep: number, options?: AbortOptions): Promise<void> {
    this.#check(options)
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError(`prune keep must be a non-negative integer, got ${keep}`, { field: 'keep' })
    await this.#file.write({ type: 'prune', keep })
  }

  /** Used by the writer. */
  async writeChunk (id: number, chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    this.#checkWriter(id, options)
    await this.#file.write({ type: 'write', id, chunk: chunk.slice() })
  }

  async install (id: number, options?: AbortOptions): Promise<SnapshotMeta> {
    const partial = this.#checkWriter(id, options)
    const data = concat(partial.chunks, partial.bytes)
    const meta: SnapshotMeta = { ...structuredClone(partial.meta), size: data.byteLength, checksum: crc32Label([data]) }
    await this.#file.write({ type: 'install', id, snapshot: { meta, data } })
    return structuredClone(meta)
  }

  async discard (id: number): Promise<void> {
    if (!this.#alive() || this.#file.cache.partial?.id !== id) return
    await this.#file.write({ type: 'discard', id })
  }

  /** Flips one byte of an installed snapshot on the platter, so `read` reports ERR_CORRUPT. */
  corrupt (index: number): boolean {
    let found = false
    this.#file.mutatePlatter((state) => {
      state.installed = state.installed.map((snapshot) => {
        if (snapshot.meta.index !== index || snapshot.data.byteLength === 0) return snapshot
        found = true
        const data = snapshot.data.slice()
        data[0] = (data[0] as number) ^ 0xff
        return { meta: snapshot.meta, data }
      })
    })
    return found
  }

  #checkWriter (id: number, options: AbortOptions | undefined): Partial {
    this.#check(options)
    const partial = this.#file.cache.partial
    if (partial?.id !== id) throw new InvalidArgumentError('this snapshot writer was superseded, aborted or committed')
    return partial
  }

  #check (options: AbortOptions | undefined): void {
    if (!this.#alive()) throw deadHandleError('snapshot')
    if (!this.#started) throw new NotStartedError('snapshot storage is not started')
    throwIfAborted(options?.signal)
  }
}

class Writer implements SnapshotWriter {
  readonly meta: BeginMeta
  readonly #storage: SimSnapshotStorageHandle
  readonly #id: number
  #offset: number

  constructor (storage: SimSnapshotStorageHandle, id: number, meta: BeginMeta, offset: number) {
    this.#storage = storage
    this.#id = id
    this.meta = structuredClone(meta)
    this.#offset = offset
  }

  get offset (): number {
    return this.#offset
  }

  async write (chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.#storage.writeChunk(this.#id, chunk, options)
    this.#offset += chunk.byteLength
  }

  async commit (options?: AbortOptions): Promise<SnapshotMeta> {
    return await this.#storage.install(this.#id, options)
  }

  async abort (): Promise<void> {
    await this.#storage.discard(this.#id)
  }
}

function concat (chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  const data = new Uint8Array(bytes)
  let offset = 0
  for (const chunk of chunks) {
    data.set(chunk, offset)
    offset += chunk.byteLength
  }
  return data
}
