import { open, type Database, type RootDatabase } from 'lmdb'
import {
  InvalidArgumentError, throwIfAborted, TooLargeError,
  type AbortOptions, type RangeQuery, type StateBatch, type StateStore
} from '@synod/interfaces'
import { validateApplied } from '../memory/state-store.js'
import { raceAbort } from '../util/abort.js'
import { openUnderDirLock, type DirLock } from '../util/dir-lock.js'
import { Lifecycle } from '../util/lifecycle.js'
import { decodeExport, encodeExport } from './export-codec.js'
import { compareKeys, inRange, lowerBound, pastRange } from './range.js'

/** Where an LMDB state store lives. */
export interface LmdbStateStoreInit {
  /** Directory of the LMDB environment (`data.mdb`); created if missing, locked (`state.lock`) while started. */
  dir: string
  /**
   * Pairs per LMDB transaction while importing a snapshot.
   * @default 2000
   */
  importBatchSize?: number
  /**
   * Bytes per chunk of `exportSnapshot`.
   * @default 65536
   */
  exportChunkBytes?: number
}

/**
 * A StateStore on LMDB (`lmdb`, with prebuilt binaries): a copy-on-write B+tree whose commits are
 * atomic and, as configured here, durable once their promise resolves. The applied index lives in
 * the same database as the data and is written in the same transaction. Writes issued in one event
 * turn share one commit and one sync. An import is written to a second database and switched in by
 * one transaction, so a crash mid-import leaves the old state whole.
 *
 * Keys are stored as UTF-16 code units (big-endian), so LMDB's byte order is exactly JavaScript's
 * string order; LMDB limits them to 988 code units.
 */
export function createLmdbStateStore (init: LmdbStateStoreInit): StateStore {
  return new LmdbStateStore(init)
}

/** Where the applied index is kept: a key no user key encodes to (those start with 0x01). */
const APPLIED_KEY = Buffer.from([0x00])
const USER_KEYS_START = Buffer.from([0x01])
const MAX_KEY_UNITS = 988

type Pending = { value: Uint8Array | undefined, seq: number }

class LmdbStateStore implements StateStore {
  private readonly lifecycle = new Lifecycle('lmdb state store')
  private readonly importBatchSize: number
  private readonly exportChunkBytes: number
  private lock: DirLock | undefined
  private root: RootDatabase | undefined
  private meta: Database<number, string> | undefined
  private databases: Array<Database<Buffer, Buffer>> = []
  private active = 0
  private applied = 0
  /** Writes accepted but not yet durable: reads must see them (the contract's read-your-writes). */
  private readonly overlay = new Map<string, Pending>()
  private seq = 0
  private readonly inflight = new Set<Promise<unknown>>()
  private importing: Promise<void> | undefined

  constructor (private readonly init: LmdbStateStoreInit) {
    this.importBatchSize = init.importBatchSize ?? 2000
    this.exportChunkBytes = init.exportChunkBytes ?? 64 * 1024
  }

  async start (): Promise<void> {
    if (this.lifecycle.started) return
    this.lock = await openUnderDirLock(this.init.dir, 'state.lock', async () => {
      const root = open({ path: this.init.dir, maxDbs: 4 })
      this.root = root
      this.meta = root.openDB<number, string>('meta', { encoding: 'json' })
      this.databases = [0, 1].map((n) => root.openDB<Buffer, Buffer>(`data-${n}`, { keyEncoding: 'binary', encoding: 'binary' }))
      this.active = this.meta.get('active') ?? 0
      this.applied = decodeApplied(this.data().get(APPLIED_KEY))
    }, async () => { await this.root?.close() })
    this.overlay.clear()
    this.lifecycle.started = true
  }

  async stop (): Promise<void> {
    if (!this.lifecycle.started) return
    this.lifecycle.started = false
    await this.importing?.catch(() => {})
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    await this.root?.flushed
    await this.root?.close()
    this.root = undefined
    await this.lock?.release()
    this.lock = undefined
  }

  get (key: string): Uint8Array | undefined {
    this.lifecycle.assert()
    const pending = this.overlay.get(key)
    if (pending !== undefined) return pending.value === undefined ? undefined : new Uint8Array(pending.value)
    const stored = this.data().get(encodeKey(key))
    return stored === undefined ? undefined : new Uint8Array(stored)
  }

  range (query: RangeQuery): Array<[string, Uint8Array]> {
    this.lifecycle.assert()
    const limit = query.limit ?? Infinity
    const result = new Map<string, Uint8Array>()
    // Read enough stored keys that pending deletes cannot leave the result short of `limit`.
    const wanted = limit === Infinity ? Infinity : limit + this.overlay.size
    for (const { key, value } of this.data().getRange({ start: encodeKey(lowerBound(query)) })) {
      const decoded = decodeKey(key)
      if (pastRange(decoded, query) || result.size >= wanted) break
      if (inRange(decoded, query)) result.set(decoded, value)
    }
    for (const [key, pending] of this.overlay) {
      if (!inRange(key, query)) continue
      if (pending.value === undefined) result.delete(key)
      else result.set(key, pending.value)
    }
    return [...result.keys()].sort(compareKeys).slice(0, limit === Infinity ? undefined : limit)
      .map((key) => [key, new Uint8Array(result.get(key) as Uint8Array)])
  }

  appliedIndex (): number {
    return this.applied
  }

  async write (batch: StateBatch, appliedIndex: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.lifecycle.assert()
      validateApplied(appliedIndex)
      const puts = (batch.puts ?? []).map(([key, value]) => [key, encodeKey(key), Buffer.from(value)] as const)
      const deletes = (batch.deletes ?? []).map((key) => [key, encodeKey(key)] as const)
      const seq = ++this.seq
      for (const [key, , value] of puts) this.overlay.set(key, { value, seq })
      for (const [key] of deletes) this.overlay.set(key, { value: undefined, seq })
      this.applied = appliedIndex
      const committed = this.commit(async () => {
        const data = this.data()
        await data.transaction(() => {
          for (const [, encoded, value] of puts) data.putSync(encoded, value)
          for (const [, encoded] of deletes) data.removeSync(encoded)
          data.putSync(APPLIED_KEY, encodeApplied(appliedIndex))
        })
        await this.root?.flushed
        for (const [key, pending] of this.overlay) if (pending.seq <= seq) this.overlay.delete(key)
      })
      await committed
    })
  }

  async * exportSnapshot (options?: AbortOptions): AsyncIterable<Uint8Array> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    // Everything already written must be in the snapshot; later writes must not be.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    const root = this.root as RootDatabase
    const data = this.data()
    const transaction = root.useReadTransaction()
    try {
      const appliedIndex = decodeApplied(data.get(APPLIED_KEY, { transaction }))
      const pairs = function * (): Generator<[string, Uint8Array]> {
        for (const { key, value } of data.getRange({ start: USER_KEYS_START, transaction })) yield [decodeKey(key), value]
      }
      yield * encodeExport(appliedIndex, pairs(), this.exportChunkBytes, options?.signal)
    } finally {
      transaction.done()
    }
  }

  async importSnapshot (chunks: AsyncIterable<Uint8Array>, appliedIndex: number, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    validateApplied(appliedIndex)
    if (this.importing !== undefined) throw new InvalidArgumentError('an import is already in progress')
    const run = this.runImport(chunks, appliedIndex, options?.signal)
    this.importing = run
    try {
      await run
    } finally {
      this.importing = undefined
    }
  }

  private async runImport (chunks: AsyncIterable<Uint8Array>, appliedIndex: number, signal: AbortSignal | undefined): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    const target = this.databases[1 - this.active] as Database<Buffer, Buffer>
    await target.clearAsync()
    let staged: Array<[Buffer, Buffer]> = []
    const flush = async (): Promise<void> => {
      const pairs = staged
      staged = []
      await target.transaction(() => { for (const [key, value] of pairs) target.putSync(key, value) })
    }
    try {
      await decodeExport(chunks, async (key, value) => {
        staged.push([encodeKey(key), Buffer.from(value.buffer, value.byteOffset, value.byteLength)])
        if (staged.length >= this.importBatchSize) await flush()
      }, signal)
      throwIfAborted(signal)
      await flush()
    } catch (error) {
      await target.clearAsync()
      throw error
    }
    // One transaction installs the import: its applied index and the switch of the active database.
    const meta = this.meta as Database<number, string>
    const next = 1 - this.active
    await (this.root as RootDatabase).transaction(() => {
      target.putSync(APPLIED_KEY, encodeApplied(appliedIndex))
      meta.putSync('active', next)
    })
    await this.root?.flushed
    const previous = this.data()
    this.active = next
    this.applied = appliedIndex
    this.overlay.clear()
    await previous.clearAsync()
  }

  private data (): Database<Buffer, Buffer> {
    return this.databases[this.active] as Database<Buffer, Buffer>
  }

  private async commit (work: () => Promise<void>): Promise<void> {
    const importing = this.importing
    const promise = (async () => {
      if (importing !== undefined) await importing.catch(() => {})
      await work()
    })()
    this.inflight.add(promise)
    try {
      await promise
    } finally {
      this.inflight.delete(promise)
    }
  }
}

function encodeKey (key: string): Buffer {
  if (key.length > MAX_KEY_UNITS) throw new TooLargeError(key.length, MAX_KEY_UNITS, `key of ${key.length} UTF-16 units exceeds the limit of ${MAX_KEY_UNITS}`)
  const encoded = Buffer.alloc(1 + key.length * 2)
  encoded[0] = 0x01
  for (let i = 0; i < key.length; i++) encoded.writeUInt16BE(key.charCodeAt(i), 1 + i * 2)
  return encoded
}

function decodeKey (encoded: Buffer): string {
  const units: number[] = []
  for (let i = 1; i + 1 < encoded.length; i += 2) units.push(encoded.readUInt16BE(i))
  let key = ''
  // fromCharCode with a spread has an argument limit; keys are short, but chunk anyway.
  for (let i = 0; i < units.length; i += 4096) key += String.fromCharCode(...units.slice(i, i + 4096))
  return key
}

function encodeApplied (index: number): Buffer {
  const encoded = Buffer.alloc(8)
  encoded.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 0)
  encoded.writeUInt32BE(index % 0x1_0000_0000, 4)
  return encoded
}

function decodeApplied (encoded: Buffer | undefined): number {
  if (encoded === undefined || encoded.length !== 8) return 0
  return encoded.readUInt32BE(0) * 0x1_0000_0000 + encoded.readUInt32BE(4)
}
