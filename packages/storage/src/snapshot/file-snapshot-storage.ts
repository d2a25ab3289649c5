import { open, readdir, rename, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CorruptionError, NotFoundError, NotStartedError, throwIfAborted,
  type AbortOptions, type SnapshotMeta, type SnapshotStorage, type SnapshotWriter
} from '@synod/interfaces'
import { validateKeep, validateMeta } from '../memory/snapshot-storage.js'
import { crc32cOf, formatChecksum } from '../util/checksum.js'
import { openUnderDirLock, type DirLock } from '../util/dir-lock.js'
import { encodeChecksummedJson, fsyncDir, readChecksummedJson, removeIfExists, writeFileAtomic } from '../util/fs.js'
import { Lifecycle } from '../util/lifecycle.js'

type BeginMeta = Pick<SnapshotMeta, 'index' | 'term' | 'config'>

/** Where and how snapshots are stored. */
export interface FileSnapshotStorageInit {
  /** Directory of the snapshots; created if missing, locked (`snapshots.lock`) while started. */
  dir: string
  /**
   * A writer syncs its partial file and records the synced length every this many bytes: after a
   * crash a transfer resumes from the last such point.
   * @default 4194304 (4 MiB)
   */
  syncEveryBytes?: number
  /**
   * Default size of the chunks `read` yields.
   * @default 65536
   */
  chunkSize?: number
}

/**
 * Durable snapshots as files. A writer streams into `<name>.partial`; `commit` syncs it, checksums
 * what is on disk (CRC32C), renames it into place, syncs the directory, then writes the metadata
 * atomically: a snapshot exists once its `.meta` does. Reads verify the checksum before yielding
 * anything, then stream the data in chunks. An interrupted write is resumed by `begin` with the
 * same index and term, from the last synced length.
 */
export function createFileSnapshotStorage (init: FileSnapshotStorageInit): SnapshotStorage {
  return new FileSnapshotStorage(init)
}

const READ_BYTES = 1024 * 1024

interface ActiveWriter {
  close: () => Promise<void>
}

class FileSnapshotStorage implements SnapshotStorage {
  private readonly lifecycle = new Lifecycle('file snapshot storage')
  private readonly syncEveryBytes: number
  private readonly chunkSize: number
  private lock: DirLock | undefined
  private installed: SnapshotMeta[] = []
  private readonly writers = new Map<string, ActiveWriter>()

  constructor (private readonly init: FileSnapshotStorageInit) {
    this.syncEveryBytes = init.syncEveryBytes ?? 4 * 1024 * 1024
    this.chunkSize = init.chunkSize ?? 64 * 1024
  }

  async start (): Promise<void> {
    if (this.lifecycle.started) return
    this.lock = await openUnderDirLock(this.init.dir, 'snapshots.lock', async () => { this.installed = await this.load() })
    this.lifecycle.started = true
  }

  async stop (): Promise<void> {
    if (!this.lifecycle.started) return
    this.lifecycle.started = false
    for (const writer of [...this.writers.values()]) await writer.close()
    this.writers.clear()
    await this.lock?.release()
    this.lock = undefined
  }

  async latest (options?: AbortOptions): Promise<SnapshotMeta | undefined> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    const newest = this.installed.at(-1)
    return newest === undefined ? undefined : structuredClone(newest)
  }

  async begin (meta: BeginMeta, options?: AbortOptions): Promise<SnapshotWriter> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateMeta(meta)
    const base = this.baseName(meta.index, meta.term)
    await this.writers.get(base)?.close()
    const partialPath = join(this.init.dir, `${base}.partial`)
    const progressPath = `${partialPath}.json`
    const progress = await readChecksummedJson(progressPath).catch(() => undefined) as { synced: number } | undefined
    let handle: FileHandle
    let size = 0
    try {
      handle = await open(partialPath, 'r+')
      // Bytes past the last recorded sync may be garbage after a crash: resume from the sync point.
      size = Math.min(progress?.synced ?? 0, (await handle.stat()).size)
      await handle.truncate(size)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      handle = await open(partialPath, 'w+')
      size = 0
    }
    return this.makeWriter(base, structuredClone({ index: meta.index, term: meta.term, config: meta.config }), handle, size, partialPath, progressPath)
  }

  private makeWriter (base: string, meta: BeginMeta, handle: FileHandle, startSize: number, partialPath: string, progressPath: string): SnapshotWriter {
    let size = startSize
    let unsynced = 0
    let closed = false
    let chain: Promise<void> = Promise.resolve()
    const serial = async <T>(work: () => Promise<T>): Promise<T> => {
      const run = chain.then(work)
      chain = run.then(() => {}, () => {})
      return await run
    }
    const assertOpen = (): void => {
      this.lifecycle.assert()
      if (closed) throw new NotStartedError('snapshot writer is closed')
    }
    const recordProgress = async (): Promise<void> => {
      await handle.datasync()
      await writeFileAtomic(progressPath, encodeChecksummedJson({ synced: size }))
      unsynced = 0
    }
    const finish = async (): Promise<void> => {
      closed = true
      if (this.writers.get(base) === active) this.writers.delete(base)
      await handle.close().catch(() => {})
    }
    // Superseded or stopped: keep the partial resumable, then close.
    const active: ActiveWriter = {
      close: async () => {
        if (closed) return
        await serial(async () => {
          if (closed) return
          await recordProgress()
          await finish()
        })
      }
    }
    this.writers.set(base, active)

    return {
      meta,
      offset: startSize,
      write: async (chunk, options) => {
        throwIfAborted(options?.signal)
        assertOpen()
        const copy = Buffer.from(chunk)
        await serial(async () => {
          assertOpen()
          let written = 0
          while (written < copy.byteLength) {
            const { bytesWritten } = await handle.write(copy, written, copy.byteLength - written, size + written)
            written += bytesWritten
          }
          size += copy.byteLength
          unsynced += copy.byteLength
          if (unsynced >= this.syncEveryBytes) await recordProgress()
        })
      },
      commit: async (options) => {
        throwIfAborted(options?.signal)
        assertOpen()
        return await serial(async () => {
          assertOpen()
          await handle.datasync()
          const crc = await checksumFile(handle, size)
          await finish()
          const dataPath = join(this.init.dir, `${base}.data`)
          await rename(partialPath, dataPath)
          await fsyncDir(this.init.dir)
          const installedMeta: SnapshotMeta = { ...meta, size, checksum: formatChecksum(crc) }
          await writeFileAtomic(join(this.init.dir, `${base}.meta`), encodeChecksummedJson(installedMeta))
          await removeIfExists(progressPath)
          this.installed = this.installed.filter((entry) => entry.index !== meta.index || entry.term !== meta.term)
          this.installed.push(installedMeta)
          this.installed.sort(byPosition)
          return structuredClone(installedMeta)
        })
      },
      abort: async () => {
        if (closed) return
        await serial(async () => {
          if (closed) return
          await finish()
          await removeIfExists(partialPath)
          await removeIfExists(progressPath)
        })
      }
    }
  }

  async * read (options?: AbortOptions & { index?: number, offset?: number, chunkSize?: number }): AsyncIterable<Uint8Array> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    const meta = options?.index === undefined ? this.installed.at(-1) : this.installed.findLast((entry) => entry.index === options.index)
    if (meta === undefined) throw new NotFoundError(options?.index === undefined ? 'no snapshot installed' : `no snapshot at index ${options.index}`)
    const path = join(this.init.dir, `${this.baseName(meta.index, meta.term)}.data`)
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`snapshot data ${path} is missing`)
      throw error
    }
    try {
      // Verify first, so a peer is never sent a prefix of damaged data.
      const size = (await handle.stat()).size
      if (size !== meta.size) throw new CorruptionError(`${path}: size ${size}, expected ${meta.size}`, { file: path, offset: Math.min(size, meta.size) })
      if (formatChecksum(await checksumFile(handle, size, options?.signal)) !== meta.checksum) {
        throw new CorruptionError(`${path}: checksum mismatch`, { file: path, offset: 0 })
      }
      const chunkSize = options?.chunkSize ?? this.chunkSize
      for (let position = options?.offset ?? 0; position < size; position += chunkSize) {
        throwIfAborted(options?.signal)
        const chunk = Buffer.allocUnsafe(Math.min(chunkSize, size - position))
        const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, position)
        if (bytesRead !== chunk.byteLength) throw new CorruptionError(`${path}: short read at ${position}`, { file: path, offset: position })
        yield chunk
      }
    } finally {
      await handle.close()
    }
  }

  async prune (keep: number, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateKeep(keep)
    const removed = keep === 0 ? this.installed : this.installed.slice(0, -keep)
    this.installed = keep === 0 ? [] : this.installed.slice(-keep)
    for (const meta of removed) {
      const base = join(this.init.dir, this.baseName(meta.index, meta.term))
      // The metadata goes first: a snapshot without it no longer exists, whatever follows.
      await removeIfExists(`${base}.meta`)
      await removeIfExists(`${base}.data`)
    }
    // Interrupted writes older than the newest snapshot can never be wanted again.
    const newest = this.installed.at(-1)
    if (newest !== undefined) {
      for (const name of await readdir(this.init.dir)) {
        const position = parseName(name)
        if (position === undefined || !name.endsWith('.partial') || position.index > newest.index) continue
        if (this.writers.has(name.slice(0, -'.partial'.length))) continue
        await removeIfExists(join(this.init.dir, name))
        await removeIfExists(join(this.init.dir, `${name}.json`))
      }
    }
    if (removed.length > 0) await fsyncDir(this.init.dir)
  }

  private baseName (index: number, term: number): string {
    return `snapshot-${String(index).padStart(20, '0')}-${String(term).padStart(20, '0')}`
  }

  private async load (): Promise<SnapshotMeta[]> {
    const names = await readdir(this.init.dir)
    const installed: SnapshotMeta[] = []
    for (const name of names) {
      const path = join(this.init.dir, name)
      if (name.endsWith('.tmp')) {
        await removeIfExists(path)
      } else if (name.endsWith('.meta')) {
        installed.push(await readChecksummedJson(path) as SnapshotMeta)
      }
    }
    // Data renamed into place without its metadata: the commit never finished.
    for (const name of names) {
      if (name.endsWith('.data') && !names.includes(`${name.slice(0, -'.data'.length)}.meta`)) await removeIfExists(join(this.init.dir, name))
    }
    for (const meta of installed) {
      const dataPath = join(this.init.dir, `${this.baseName(meta.index, meta.term)}.data`)
      const exists = await stat(dataPath).then(() => true, () => false)
      if (!exists) throw new CorruptionError(`${dataPath} is missing for an installed snapshot`, { file: dataPath, offset: 0 })
    }
    return installed.sort(byPosition)
  }
}

function byPosition (a: SnapshotMeta, b: SnapshotMeta): number {
  return a.index - b.index || a.term - b.term
}

function parseName (name: string): { index: number, term: number } | undefined {
  const match = /^snapshot-(\d{20})-(\d{20})\./.exec(name)
  return match === null ? undefined : { index: Number(match[1]), term: Number(match[2]) }
}

async function checksumFile (handle: FileHandle, size: number, signal?: AbortSignal): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(size, 1)))
  let crc = 0
  for (let position = 0; position < size;) {
    throwIfAborted(signal)
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.byteLength, size - position), position)
    if (bytesRead === 0) break
    crc = crc32cOf(buffer.subarray(0, bytesRead), crc)
    position += bytesRead
  }
  return crc
}
