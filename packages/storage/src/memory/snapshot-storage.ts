import {
  InvalidArgumentError, NotFoundError, NotStartedError, throwIfAborted,
  type AbortOptions, type SnapshotMeta, type SnapshotStorage, type SnapshotWriter
} from '@synod/interfaces'
import { crc32cOf, formatChecksum } from '../util/checksum.js'
import { Lifecycle } from '../util/lifecycle.js'

type BeginMeta = Pick<SnapshotMeta, 'index' | 'term' | 'config'>

/**
 * A SnapshotStorage kept in memory, for tests and the simulator. Data is held as the chunks that
 * were written; an uncommitted write can be resumed by `begin` with the same index and term.
 */
export function createMemorySnapshotStorage (): SnapshotStorage {
  return new MemorySnapshotStorage()
}

interface Partial { chunks: Uint8Array[], size: number, generation: number }

class MemorySnapshotStorage implements SnapshotStorage {
  private readonly lifecycle = new Lifecycle('memory snapshot storage')
  private installed: Array<{ meta: SnapshotMeta, chunks: Uint8Array[] }> = []
  private readonly partials = new Map<string, Partial>()

  async start (): Promise<void> { this.lifecycle.started = true }
  async stop (): Promise<void> { this.lifecycle.started = false }

  async latest (options?: AbortOptions): Promise<SnapshotMeta | undefined> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    const newest = this.installed.at(-1)
    return newest === undefined ? undefined : structuredClone(newest.meta)
  }

  async begin (meta: BeginMeta, options?: AbortOptions): Promise<SnapshotWriter> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateMeta(meta)
    const key = `${meta.index}:${meta.term}`
    const partial = this.partials.get(key) ?? { chunks: [], size: 0, generation: 0 }
    // A new writer for the same snapshot supersedes the old one, which can no longer write.
    const generation = ++partial.generation
    this.partials.set(key, partial)
    const fixedMeta = structuredClone({ index: meta.index, term: meta.term, config: meta.config })
    let finished = false
    const assertUsable = (): void => {
      this.lifecycle.assert()
      if (finished || partial.generation !== generation || this.partials.get(key) !== partial) {
        throw new NotStartedError('snapshot writer is closed')
      }
    }
    return {
      meta: fixedMeta,
      offset: partial.size,
      write: async (chunk, writeOptions) => {
        throwIfAborted(writeOptions?.signal)
        assertUsable()
        partial.chunks.push(new Uint8Array(chunk))
        partial.size += chunk.byteLength
      },
      commit: async (commitOptions) => {
        throwIfAborted(commitOptions?.signal)
        assertUsable()
        finished = true
        let crc = 0
        for (const chunk of partial.chunks) crc = crc32cOf(chunk, crc)
        const installedMeta: SnapshotMeta = { ...structuredClone(fixedMeta), size: partial.size, checksum: formatChecksum(crc) }
        this.partials.delete(key)
        this.installed = this.installed.filter((entry) => entry.meta.index !== meta.index || entry.meta.term !== meta.term)
        this.installed.push({ meta: installedMeta, chunks: partial.chunks })
        this.installed.sort((a, b) => a.meta.index - b.meta.index || a.meta.term - b.meta.term)
        return structuredClone(installedMeta)
      },
      abort: async () => {
        if (finished) return
        finished = true
        if (this.partials.get(key) === partial && partial.generation === generation) this.partials.delete(key)
      }
    }
  }

  async * read (options?: AbortOptions & { index?: number, offset?: number, chunkSize?: number }): AsyncIterable<Uint8Array> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    const entry = options?.index === undefined ? this.installed.at(-1) : this.installed.findLast((candidate) => candidate.meta.index === options.index)
    if (entry === undefined) throw new NotFoundError(options?.index === undefined ? 'no snapshot installed' : `no snapshot at index ${options.index}`)
    const chunkSize = options?.chunkSize ?? 64 * 1024
    let skip = options?.offset ?? 0
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    for (const stored of entry.chunks) {
      let chunk = stored
      if (skip >= chunk.byteLength) { skip -= chunk.byteLength; continue }
      chunk = chunk.subarray(skip)
      skip = 0
      while (chunk.byteLength > 0) {
        const take = Math.min(chunk.byteLength, chunkSize - pendingBytes)
        pending.push(chunk.subarray(0, take))
        pendingBytes += take
        chunk = chunk.subarray(take)
        if (pendingBytes === chunkSize) {
          throwIfAborted(options?.signal)
          yield concat(pending, pendingBytes)
          pending = []
          pendingBytes = 0
        }
      }
    }
    if (pendingBytes > 0) yield concat(pending, pendingBytes)
  }

  async prune (keep: number, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateKeep(keep)
    this.installed = keep === 0 ? [] : this.installed.slice(-keep)
  }
}

function concat (parts: Uint8Array[], total: number): Uint8Array {
  const result = new Uint8Array(total)
  let at = 0
  for (const part of parts) { result.set(part, at); at += part.byteLength }
  return result
}

export function validateMeta (meta: BeginMeta): void {
  if (!Number.isSafeInteger(meta.index) || meta.index < 0) throw new InvalidArgumentError(`snapshot index must be a non-negative integer, got ${meta.index}`, { field: 'index' })
  if (!Number.isSafeInteger(meta.term) || meta.term < 0) throw new InvalidArgumentError(`snapshot term must be a non-negative integer, got ${meta.term}`, { field: 'term' })
}

export function validateKeep (keep: number): void {
  if (!Number.isSafeInteger(keep) || keep < 0) throw new InvalidArgumentError(`keep must be a non-negative integer, got ${keep}`, { field: 'keep' })
}
