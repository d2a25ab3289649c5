import { fdatasyncSync, writeSync } from 'node:fs'
import { open, readdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CompactedError, CorruptionError, InvalidArgumentError, throwIfAborted, TooLargeError,
  type AbortOptions, type LogEntry, type Logger, type LogStorage
} from '@synod/interfaces'
import { raceAbort, releaseOnAbort } from '../util/abort.js'
import { openUnderDirLock, type DirLock } from '../util/dir-lock.js'
import { encodeChecksummedJson, fsyncDir, readChecksummedJson, removeIfExists, writeFileAtomic } from '../util/fs.js'
import { Lifecycle } from '../util/lifecycle.js'
import { validateAppend, validateIndex } from '../util/validate.js'
import { encodeEntryFrame, encodeSegmentHeader, frameBytes, SEGMENT_HEADER_BYTES } from './frame.js'
import { scanSegment } from './recovery.js'
import { FrameReader, parseSegmentFileName, segmentFileName, SPARSE_STRIDE, type Segment } from './segment.js'
import { TermIndex } from './term-index.js'

/** Where and how a file log keeps its segments. */
export interface FileLogStorageInit {
  /** Directory of the log; created if missing, locked (`wal.lock`) while started. */
  dir: string
  /**
   * A segment is closed and a new one started once a write would take it past this size.
   * @default 67108864 (64 MiB)
   */
  segmentBytes?: number
  /**
   * Zero-fill the next segment in the background (once the current one is half full), so appends
   * overwrite allocated blocks and `fdatasync` has no file-size metadata to flush.
   * @default true
   */
  preallocate?: boolean
  /**
   * Most bytes one group commit writes before its `fdatasync`; appends beyond wait for the next.
   * @default 8388608 (8 MiB)
   */
  maxBatchBytes?: number
  /**
   * Most group commits whose `fdatasync` runs at the same time. With more than 1, appends that
   * arrive while one commit syncs are written and start their own sync instead of waiting; each is
   * acknowledged only after its own sync and every earlier commit's. One sync at a time was faster
   * on an idle machine here (the disk serialises cache flushes) and keeps recovery's torn-tail
   * window at one write; 2 helped when the CPU was oversubscribed (see the README).
   * @default 1
   */
  maxSyncsInFlight?: number
  /**
   * A commit of at most this many bytes, written while no other commit is syncing, is made durable
   * with `fdatasync` on the calling thread rather than through libuv's thread pool, which saves
   * the pool's round trip (wake a worker, sync, wake the event loop through its event fd) at the
   * price of blocking the event loop for the length of the sync. Larger commits, which come with
   * heavy load, always sync in the pool so the loop goes on decoding and answering meanwhile. Off
   * by default: on a busy 2-core machine a 3-node cluster was no faster with it (see the README).
   * @default 0 (every commit syncs in the thread pool)
   */
  inlineSyncMaxBytes?: number
  /**
   * Largest accepted entry payload; a bigger one rejects with ERR_TOO_LARGE.
   * @default 67108864 (64 MiB)
   */
  maxEntryBytes?: number
}

/** What a file log needs from its host. */
export interface FileLogStorageComponents {
  /** Receives a warning when start-up truncates a torn tail. @default no logging */
  logger?: Logger
}

/**
 * A durable, segmented write-ahead log (see the package README for the format and the recovery
 * rules). Appends resolve, in call order, once their data has been written and `fdatasync`ed.
 * Appends waiting together are written together and share one sync (group commit); while one
 * sync runs, the next group is written and starts its own (up to `maxSyncsInFlight`).
 */
export function createFileLogStorage (init: FileLogStorageInit, components: FileLogStorageComponents = {}): LogStorage {
  return new FileLogStorage(init, components)
}

const LOCK_FILE = 'wal.lock'
const COMPACTION_FILE = 'compaction.json'
const PREALLOCATED_FILE = 'next-segment.tmp'
const ZERO_CHUNK = Buffer.alloc(1024 * 1024)
/**
 * Batches up to this size are written with a synchronous pwrite: copying into the page cache
 * takes microseconds, less than a round trip through libuv's thread pool, which matters when the
 * whole append is one fdatasync (about 130 µs on a good SSD). Larger batches write asynchronously.
 */
const SYNC_WRITE_MAX_BYTES = 256 * 1024

type Operation =
  | { kind: 'append', entries: readonly LogEntry[], bytes: number, done: Settle }
  | { kind: 'truncate', fromIndex: number, done: Settle }
  | { kind: 'compact', upToIndex: number, term: number, done: Settle }

type AppendOperation = Extract<Operation, { kind: 'append' }>

interface Settle { resolve: () => void, reject: (error: Error) => void }

/** A group of appends written to its segment, acknowledged once `synced` settles (in order). */
interface Commit {
  readonly operations: readonly AppendOperation[]
  readonly segment: Segment
  readonly entries: readonly LogEntry[]
  /** File offset of each entry's frame. */
  readonly offsets: readonly number[]
  /** File offset just past the commit's last frame. */
  readonly end: number
  readonly lastIndex: number
  /** Settles when its fdatasync does: undefined on success, the error otherwise (never rejects). */
  readonly synced: Promise<Error | undefined>
}

/**
 * Frames written while an earlier commit is still syncing carry no batch-start flag, so recovery
 * cannot tell damage among them from a torn tail. Once this many bytes were written that way, the
 * next commit waits for the syncs in flight and writes a flagged frame, bounding that window.
 */
const PIPELINED_WINDOW_BYTES = 1024 * 1024

class FileLogStorage implements LogStorage {
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly preallocate: boolean
  private readonly maxBatchBytes: number
  private readonly maxEntryBytes: number
  private readonly maxSyncsInFlight: number
  private readonly inlineSyncMaxBytes: number
  private readonly logger: Logger | undefined
  private readonly lifecycle = new Lifecycle('file log storage')

  private lock: DirLock | undefined
  private segments: Segment[] = []
  private readonly terms = new TermIndex()
  private compactedIndex = 0
  private compactedTerm = 0
  private last = 0

  /** The log as it will be once every queued operation is done; calls are validated against it. */
  private queuedLastIndex = 0
  private queuedCompactedIndex = 0
  private readonly queue: Operation[] = []
  private draining: Promise<void> | undefined
  /** Called by enqueue while the writer waits for a sync but could start another commit. */
  private wakeDrain: (() => void) | undefined
  /** Commits written whose fdatasync has not been acknowledged yet, oldest first. */
  private readonly inFlight: Commit[] = []
  /** Bytes written since the last frame carrying the batch-start flag. */
  private unflaggedBytes = 0
  /** Set when a write or sync failed: the page cache can no longer be trusted (fsyncgate). */
  private failure: Error | undefined

  private preallocation: Promise<void> | undefined
  private preallocatedReady = false
  private stopping = false

  private scratch: Buffer | undefined

  private activeReads = 0
  private readersDone: Array<() => void> = []
  private exclusiveGate: Promise<void> | undefined

  constructor (init: FileLogStorageInit, components: FileLogStorageComponents) {
    this.dir = init.dir
    this.segmentBytes = init.segmentBytes ?? 64 * 1024 * 1024
    this.preallocate = init.preallocate ?? true
    this.maxBatchBytes = init.maxBatchBytes ?? 8 * 1024 * 1024
    this.maxEntryBytes = init.maxEntryBytes ?? 64 * 1024 * 1024
    this.maxSyncsInFlight = init.maxSyncsInFlight ?? 1
    this.inlineSyncMaxBytes = init.inlineSyncMaxBytes ?? 0
    if (!(this.inlineSyncMaxBytes >= 0)) {
      throw new InvalidArgumentError('inlineSyncMaxBytes must be a number >= 0', { field: 'inlineSyncMaxBytes' })
    }
    if (!Number.isSafeInteger(this.maxSyncsInFlight) || this.maxSyncsInFlight < 1) {
      throw new InvalidArgumentError('maxSyncsInFlight must be a positive integer', { field: 'maxSyncsInFlight' })
    }
    this.logger = components.logger
    if (!Number.isSafeInteger(this.segmentBytes) || this.segmentBytes < 4096) {
      throw new InvalidArgumentError('segmentBytes must be an integer of at least 4096', { field: 'segmentBytes' })
    }
  }

  async start (): Promise<void> {
    if (this.lifecycle.started) return
    this.lock = await openUnderDirLock(this.dir, LOCK_FILE, async () => { await this.recover() }, async () => { await this.closeSegments() })
    this.failure = undefined
    this.stopping = false
    this.lifecycle.started = true
    const active = this.segments.at(-1)
    if (active === undefined || active.size > this.segmentBytes / 2) this.startPreallocation()
  }

  async stop (): Promise<void> {
    if (!this.lifecycle.started) return
    this.lifecycle.started = false
    await this.draining
    // An unfinished zero-fill is abandoned; the next start removes the file.
    this.stopping = true
    await this.preallocation
    await this.closeSegments()
    await this.lock?.release()
    this.lock = undefined
  }

  firstIndex (): number { return this.compactedIndex + 1 }
  lastIndex (): number { return this.last }

  term (index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm
    if (index < this.compactedIndex || index > this.last) return undefined
    return this.terms.termOf(index)
  }

  // Not async: on the hot path each extra async frame is another promise and microtask per append.
  append (entries: readonly LogEntry[], options?: AbortOptions): Promise<void> {
    const signal = options?.signal
    let bytes = 0
    try {
      throwIfAborted(signal)
      this.assertWritable()
      validateAppend(entries, this.queuedCompactedIndex, this.queuedLastIndex)
      for (const entry of entries) {
        if (entry.data.byteLength > this.maxEntryBytes) throw new TooLargeError(entry.data.byteLength, this.maxEntryBytes)
        bytes += frameBytes(entry)
      }
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    const lastEntry = entries.at(-1)
    if (lastEntry === undefined) return Promise.resolve()
    this.queuedLastIndex = lastEntry.index
    return releaseOnAbort(signal, this.enqueue((done) => ({ kind: 'append', entries, bytes, done })))
  }

  async truncateSuffix (fromIndex: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.assertWritable()
      validateIndex(fromIndex, 'fromIndex')
      if (fromIndex <= this.queuedCompactedIndex) throw new CompactedError(fromIndex, this.queuedCompactedIndex + 1)
      this.queuedLastIndex = Math.min(this.queuedLastIndex, fromIndex - 1)
      await this.enqueue((done) => ({ kind: 'truncate', fromIndex, done }))
    })
  }

  async compactPrefix (upToIndex: number, term: number, options?: AbortOptions): Promise<void> {
    await raceAbort(options?.signal, async () => {
      this.assertWritable()
      validateIndex(upToIndex, 'upToIndex')
      validateIndex(term, 'term')
      if (upToIndex <= this.queuedCompactedIndex) return
      this.queuedCompactedIndex = upToIndex
      this.queuedLastIndex = Math.max(this.queuedLastIndex, upToIndex)
      await this.enqueue((done) => ({ kind: 'compact', upToIndex, term, done }))
    })
  }

  async entries (from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]> {
    throwIfAborted(options?.signal)
    this.lifecycle.assert()
    if (from < this.firstIndex()) throw new CompactedError(from, this.firstIndex())
    return await this.shared(async () => {
      if (from < this.firstIndex()) throw new CompactedError(from, this.firstIndex())
      const end = Math.min(to, this.last + 1)
      const maxBytes = options?.maxBytes ?? Infinity
      const result: LogEntry[] = []
      let bytes = 0
      let index = from
      let segmentPosition = this.findSegment(index)
      while (index < end) {
        throwIfAborted(options?.signal)
        const segment = this.segments[segmentPosition] as Segment
        const stride = Math.floor((index - segment.firstIndex) / SPARSE_STRIDE)
        const reader = new FrameReader(segment, segment.sparse[stride] as number)
        let readerIndex = segment.firstIndex + stride * SPARSE_STRIDE
        while (index < end && index <= segment.lastIndex) {
          const entry = await reader.next()
          if (entry === undefined) break
          if (readerIndex++ < index) continue
          bytes += entry.data.byteLength
          if (result.length > 0 && bytes > maxBytes) return result
          result.push(entry)
          index++
        }
        segmentPosition++
      }
      return result
    })
  }

  // ---- the write queue -------------------------------------------------------------------------

  private assertWritable (): void {
    this.lifecycle.assert()
    if (this.failure !== undefined) throw this.failure
  }

  private enqueue (build: (done: Settle) => Operation): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(build({ resolve, reject }))
      if (this.draining === undefined) {
        this.draining = this.drain().finally(() => { this.draining = undefined })
      } else {
        this.wakeDrain?.()
      }
    })
  }

  /**
   * The single writer. Appends become commits: encoded into one buffer, written, and their
   * `fdatasync` started; up to `maxSyncsInFlight` commits sync at once, each covering its own write,
   * and they are acknowledged strictly in order (a commit is acknowledged only after every earlier
   * one). Truncation, compaction, rewrites of written entries and segment rotation first wait until
   * no commit is in flight.
   */
  private async drain (): Promise<void> {
    // Yield one event-loop turn before taking a group: appends issued in the same turn then join
    // one commit instead of each starting its own.
    await nextTurn()
    for (;;) {
      const head = this.queue[0]
      if (head === undefined) {
        if (this.inFlight.length === 0) return
        // Nothing to write: wait for the oldest commit, or for an append to use a free slot.
        if (await this.oldestSyncedOrWoken() === 'woken') await nextTurn()
        else await this.acknowledgeOldest()
        continue
      }
      if (this.failure !== undefined) {
        this.queue.shift()
        head.done.reject(this.failure)
        continue
      }
      if (head.kind === 'append') {
        const free = this.maxSyncsInFlight - this.inFlight.length
        if (free <= 0 || (this.inFlight.length > 0 && !this.canOverlap(head))) {
          await this.acknowledgeOldest()
          continue
        }
        // Split what is queued across the free slots: commits that sync side by side overlap one
        // commit's sync with the encoding, writing and acknowledging of the others.
        const group = this.takeGroup(Math.ceil(this.queue.length / free))
        try {
          await this.startCommit(group)
        } catch (cause) {
          this.fail(group, cause)
        }
        continue
      }
      if (this.inFlight.length > 0) {
        await this.acknowledgeOldest()
        continue
      }
      this.queue.shift()
      try {
        if (head.kind === 'truncate') await this.truncateFrom(head.fromIndex)
        else await this.compactTo(head.upToIndex, head.term)
        head.done.resolve()
      } catch (cause) {
        this.fail([head], cause)
      }
    }
  }

  private fail (operations: readonly Operation[], cause: unknown): void {
    const error = cause instanceof Error ? cause : new Error(String(cause))
    this.failure ??= error
    for (const operation of operations) operation.done.reject(error)
  }

  /** Resolves with 'synced' when the oldest commit's sync settles, or 'woken' when an append is queued. */
  private async oldestSyncedOrWoken (): Promise<'synced' | 'woken'> {
    const oldest = this.inFlight[0] as Commit
    const woken = new Promise<'woken'>((resolve) => { this.wakeDrain = () => { resolve('woken') } })
    try {
      return await Promise.race([oldest.synced.then(() => 'synced' as const), woken])
    } finally {
      this.wakeDrain = undefined
    }
  }

  /**
   * Waits for the oldest commit's fdatasync, then makes its entries visible and resolves its
   * appends, then yields a turn so the callers it woke can append again and join the next commit.
   * After any failed write or sync every later commit is rejected too: a failed fdatasync may
   * have dropped dirty pages that a later, successful one no longer reports (fsyncgate).
   */
  private async acknowledgeOldest (): Promise<void> {
    const commit = this.inFlight[0] as Commit
    const error = await commit.synced
    this.inFlight.shift()
    if (error !== undefined || this.failure !== undefined) {
      this.fail(commit.operations, this.failure ?? error)
    } else {
      const { segment, entries, offsets } = commit
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as LogEntry
        if ((entry.index - segment.firstIndex) % SPARSE_STRIDE === 0) segment.sparse.push(offsets[i] as number)
        this.terms.push(entry.index, entry.term)
      }
      segment.size = commit.end
      segment.lastIndex = commit.lastIndex
      this.last = commit.lastIndex
      // Prepare the next segment while this one fills its second half.
      if (segment.size > this.segmentBytes / 2) this.startPreallocation()
      for (const operation of commit.operations) operation.done.resolve()
    }
    await nextTurn()
  }

  /** Last index written (synced or not) and where the next frame goes. */
  private writtenEnd (): { lastIndex: number, offset: number } {
    const tail = this.inFlight.at(-1)
    return tail === undefined
      ? { lastIndex: this.last, offset: this.segments.at(-1)?.size ?? 0 }
      : { lastIndex: tail.lastIndex, offset: tail.end }
  }

  /**
   * Whether `head` may be written while commits are in flight: it continues the written log, fits
   * the active segment and one synchronous write, and the frames written since the last write
   * made with nothing in flight stay under PIPELINED_WINDOW_BYTES (see the README's recovery rules).
   */
  private canOverlap (head: AppendOperation): boolean {
    const written = this.writtenEnd()
    return (head.entries[0] as LogEntry).index === written.lastIndex + 1 &&
      this.unflaggedBytes < PIPELINED_WINDOW_BYTES &&
      head.bytes <= this.overlapBytesLimit(written.offset)
  }

  private overlapBytesLimit (writtenOffset: number): number {
    return Math.min(this.maxBatchBytes, SYNC_WRITE_MAX_BYTES, this.segmentBytes - writtenOffset)
  }

  /**
   * Takes the append at the head of the queue plus up to `maxOperations - 1` appends queued right
   * behind it (group commit), within the byte limit. An append that would overwrite entries already
   * written starts its own group, because the file must be cut first.
   */
  private takeGroup (maxOperations: number): AppendOperation[] {
    const head = this.queue.shift() as AppendOperation
    const group = [head]
    const written = this.writtenEnd()
    const maxBytes = this.inFlight.length > 0 ? this.overlapBytesLimit(written.offset) : this.maxBatchBytes
    let bytes = head.bytes
    let pendingLast = (head.entries.at(-1) as LogEntry).index
    const diskLast = Math.min(written.lastIndex, (head.entries[0] as LogEntry).index - 1)
    while (group.length < maxOperations) {
      const next = this.queue[0]
      if (next?.kind !== 'append' || bytes + next.bytes > maxBytes) break
      const nextFirst = (next.entries[0] as LogEntry).index
      if (nextFirst <= diskLast || nextFirst > pendingLast + 1) break
      group.push(this.queue.shift() as AppendOperation)
      bytes += next.bytes
      pendingLast = (next.entries.at(-1) as LogEntry).index
    }
    return group
  }

  /**
   * Encodes a group into one buffer, writes it, starts its fdatasync and adds it to the commits in
   * flight. Truncating overwritten entries and opening a new segment only happen with nothing in
   * flight (canOverlap), so they never race a sync.
   */
  private async startCommit (group: readonly AppendOperation[]): Promise<void> {
    const overlapping = this.inFlight.length > 0
    const first = (group[0]?.entries[0] as LogEntry).index
    if (first <= this.last) await this.truncateFrom(first)
    // Later appends in the group may overwrite the tail of earlier ones (all still in memory).
    const entries: LogEntry[] = []
    for (const operation of group) {
      const start = (operation.entries[0] as LogEntry).index
      while (entries.length > 0 && (entries.at(-1) as LogEntry).index >= start) entries.pop()
      for (const entry of operation.entries) entries.push(entry)
    }
    let total = 0
    for (const entry of entries) total += frameBytes(entry)

    let segment = this.segments.at(-1)
    if (segment === undefined || (!overlapping && segment.size + total > this.segmentBytes && segment.lastIndex >= segment.firstIndex)) {
      segment = await this.openNewSegment((entries[0] as LogEntry).index)
    }
    const start = overlapping ? (this.inFlight.at(-1) as Commit).end : segment.size
    // The batch-start flag tells recovery that everything before this frame was durable when it
    // was written; only true when no earlier commit is still syncing.
    const buffer = this.encodeBuffer(total)
    const offsets: number[] = new Array<number>(entries.length)
    let at = 0
    for (let i = 0; i < entries.length; i++) {
      offsets[i] = start + at
      at = encodeEntryFrame(entries[i] as LogEntry, i === 0 && !overlapping, buffer, at)
    }
    if (total <= SYNC_WRITE_MAX_BYTES) writeAllSync(segment, buffer, start)
    else await writeAll(segment, buffer, start)
    this.unflaggedBytes = overlapping ? this.unflaggedBytes + total : total
    this.inFlight.push({
      operations: group,
      segment,
      entries,
      offsets,
      end: start + total,
      lastIndex: (entries.at(-1) as LogEntry).index,
      synced: !overlapping && total <= this.inlineSyncMaxBytes ? syncInline(segment) : syncInPool(segment)
    })
  }

  /**
   * A buffer for one batch's frames. Batches written synchronously reuse one scratch buffer (the
   * write has copied it into the page cache before the next batch is encoded); larger ones, written
   * asynchronously, get their own.
   */
  private encodeBuffer (bytes: number): Buffer {
    if (bytes > SYNC_WRITE_MAX_BYTES) return Buffer.allocUnsafe(bytes)
    this.scratch ??= Buffer.allocUnsafe(SYNC_WRITE_MAX_BYTES)
    return this.scratch.subarray(0, bytes)
  }

  private async openNewSegment (firstIndex: number): Promise<Segment> {
    const path = join(this.dir, segmentFileName(firstIndex))
    const reusePreallocated = this.preallocatedReady
    if (reusePreallocated) {
      this.preallocatedReady = false
      await rename(join(this.dir, PREALLOCATED_FILE), path)
    }
    // 'r+' writes in place over the zero-filled file; 'a' would force every write to its end.
    const handle = await open(path, reusePreallocated ? 'r+' : 'w+')
    const segment: Segment = { firstIndex, lastIndex: firstIndex - 1, path, handle, size: 0, sparse: [] }
    try {
      await writeAll(segment, encodeSegmentHeader(firstIndex), 0)
      // The header is synced with the first batch; the directory entry must be durable first.
      await fsyncDir(this.dir)
    } catch (error) {
      await handle.close()
      throw error
    }
    segment.size = SEGMENT_HEADER_BYTES
    this.segments.push(segment)
    return segment
  }

  private startPreallocation (): void {
    if (!this.preallocate || this.preallocatedReady || this.preallocation !== undefined) return
    const path = join(this.dir, PREALLOCATED_FILE)
    this.preallocation = (async () => {
      const handle = await open(path, 'w')
      try {
        // Sync each megabyte as it is written: one 64 MiB flush would hold up the log's own
        // fdatasyncs (on ext4 they wait for the same journal commit) for its whole duration.
        for (let written = 0; written < this.segmentBytes; written += ZERO_CHUNK.byteLength) {
          if (this.stopping) return
          await handle.write(ZERO_CHUNK, 0, Math.min(ZERO_CHUNK.byteLength, this.segmentBytes - written), written)
          await handle.datasync()
        }
      } finally {
        await handle.close()
      }
      this.preallocatedReady = true
    })().catch((error: unknown) => {
      this.logger?.warn({ error }, 'segment preallocation failed; the next segment grows as written')
    }).finally(() => { this.preallocation = undefined })
  }

  /** Physically removes entries >= fromIndex: newer segments first, then cuts the one holding it. */
  private async truncateFrom (fromIndex: number): Promise<void> {
    if (fromIndex > this.last) return
    await this.exclusive(async () => {
      // Remove whole segments newest first, syncing the directory after each, so a crash never
      // leaves a hole in the middle of the log.
      while (this.segments.length > 0 && (this.segments.at(-1) as Segment).firstIndex >= fromIndex) {
        const segment = this.segments.pop() as Segment
        await segment.handle.close()
        await removeIfExists(segment.path)
        await fsyncDir(this.dir)
      }
      const segment = this.segments.at(-1)
      if (segment !== undefined && segment.lastIndex >= fromIndex) {
        const stride = Math.floor((fromIndex - segment.firstIndex) / SPARSE_STRIDE)
        const reader = new FrameReader(segment, segment.sparse[stride] as number)
        for (let index = segment.firstIndex + stride * SPARSE_STRIDE; index < fromIndex; index++) await reader.next(false)
        await segment.handle.truncate(reader.offset)
        await segment.handle.datasync()
        segment.size = reader.offset
        segment.lastIndex = fromIndex - 1
        segment.sparse.length = Math.ceil((fromIndex - segment.firstIndex) / SPARSE_STRIDE)
      }
      this.terms.truncateFrom(fromIndex)
      this.last = Math.max(this.compactedIndex, fromIndex - 1)
    })
  }

  /** Records the compaction point durably first, then drops segments it covers entirely. */
  private async compactTo (upToIndex: number, term: number): Promise<void> {
    if (upToIndex <= this.compactedIndex) return
    await writeFileAtomic(join(this.dir, COMPACTION_FILE), encodeChecksummedJson({ compactedIndex: upToIndex, compactedTerm: term }))
    await this.exclusive(async () => {
      this.compactedIndex = upToIndex
      this.compactedTerm = term
      if (upToIndex >= this.last) {
        this.last = upToIndex
        this.terms.clear()
      } else {
        this.terms.dropBefore(upToIndex + 1)
      }
      // Recovery deletes any segment the compaction covers, so unsynced removals are harmless.
      while (this.segments.length > 0 && (this.segments[0] as Segment).lastIndex <= upToIndex) {
        const segment = this.segments.shift() as Segment
        await segment.handle.close()
        await removeIfExists(segment.path)
      }
    })
  }

  // ---- recovery --------------------------------------------------------------------------------

  private async recover (): Promise<void> {
    this.segments = []
    this.terms.clear()
    this.preallocatedReady = false
    await removeIfExists(join(this.dir, PREALLOCATED_FILE))
    await removeIfExists(join(this.dir, `${COMPACTION_FILE}.tmp`))
    const compaction = await readChecksummedJson(join(this.dir, COMPACTION_FILE)) as { compactedIndex: number, compactedTerm: number } | undefined
    this.compactedIndex = compaction?.compactedIndex ?? 0
    this.compactedTerm = compaction?.compactedTerm ?? 0

    const names = (await readdir(this.dir))
      .map((name) => ({ name, firstIndex: parseSegmentFileName(name) }))
      .filter((file): file is { name: string, firstIndex: number } => file.firstIndex !== undefined)
      .sort((a, b) => a.firstIndex - b.firstIndex)

    const recordTerm = (index: number, term: number): void => {
      if (index > this.compactedIndex) this.terms.push(index, term)
    }
    for (let i = 0; i < names.length; i++) {
      const { name, firstIndex } = names[i] as { name: string, firstIndex: number }
      const path = join(this.dir, name)
      const handle = await open(path, 'r+')
      const isLast = i === names.length - 1
      let segment: Segment | undefined
      try {
        segment = await scanSegment({ path, handle, firstIndex, isLast, onEntry: recordTerm, logger: this.logger })
      } catch (error) {
        await handle.close()
        throw error
      }
      if (segment === undefined) {
        await handle.close()
        await removeIfExists(path)
        continue
      }
      this.segments.push(segment)
    }

    // Finish a compaction interrupted before its segments were removed.
    while (this.segments.length > 0 && (this.segments[0] as Segment).lastIndex <= this.compactedIndex) {
      const segment = this.segments.shift() as Segment
      await segment.handle.close()
      await removeIfExists(segment.path)
    }
    const oldest = this.segments[0]
    if (oldest !== undefined && oldest.firstIndex > this.compactedIndex + 1) {
      throw missingEntries(oldest.path, this.compactedIndex + 1, oldest.firstIndex)
    }
    for (let i = 1; i < this.segments.length; i++) {
      const segment = this.segments[i] as Segment
      const previous = this.segments[i - 1] as Segment
      if (segment.firstIndex !== previous.lastIndex + 1) throw missingEntries(segment.path, previous.lastIndex + 1, segment.firstIndex)
    }
    this.last = Math.max(this.compactedIndex, this.segments.at(-1)?.lastIndex ?? 0)
    this.queuedLastIndex = this.last
    this.queuedCompactedIndex = this.compactedIndex
  }

  private async closeSegments (): Promise<void> {
    const segments = this.segments
    this.segments = []
    for (const segment of segments) await segment.handle.close()
  }

  private findSegment (index: number): number {
    let low = 0
    let high = this.segments.length - 1
    while (low < high) {
      const mid = (low + high + 1) >>> 1
      if ((this.segments[mid] as Segment).firstIndex <= index) low = mid
      else high = mid - 1
    }
    return low
  }

  // ---- readers and destructive writers ---------------------------------------------------------

  /** Runs a read; destructive changes (truncation, compaction) wait for reads in progress. */
  private async shared<T> (read: () => Promise<T>): Promise<T> {
    while (this.exclusiveGate !== undefined) await this.exclusiveGate
    this.activeReads++
    try {
      return await read()
    } finally {
      this.activeReads--
      if (this.activeReads === 0) for (const wake of this.readersDone.splice(0)) wake()
    }
  }

  private async exclusive (change: () => Promise<void>): Promise<void> {
    let open: () => void = () => {}
    this.exclusiveGate = new Promise((resolve) => { open = resolve })
    try {
      while (this.activeReads > 0) await new Promise<void>((resolve) => this.readersDone.push(resolve))
      await change()
    } finally {
      this.exclusiveGate = undefined
      open()
    }
  }
}

function asError (error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** fdatasync through libuv's thread pool; settles with the error instead of rejecting. */
function syncInPool (segment: Segment): Promise<Error | undefined> {
  return segment.handle.datasync().then(() => undefined, asError)
}

/** fdatasync on this thread (see `inlineSyncMaxBytes`); settles with the error instead of throwing. */
function syncInline (segment: Segment): Promise<Error | undefined> {
  try {
    fdatasyncSync(segment.handle.fd)
    return Promise.resolve(undefined)
  } catch (error) {
    return Promise.resolve(asError(error))
  }
}

async function nextTurn (): Promise<void> {
  await new Promise<void>((resolve) => { setImmediate(resolve) })
}

function writeAllSync (segment: Segment, buffer: Buffer, position: number): void {
  let written = 0
  while (written < buffer.byteLength) {
    written += writeSync(segment.handle.fd, buffer, written, buffer.byteLength - written, position + written)
  }
}

async function writeAll (segment: Segment, buffer: Buffer, position: number): Promise<void> {
  let written = 0
  while (written < buffer.byteLength) {
    const { bytesWritten } = await segment.handle.write(buffer, written, buffer.byteLength - written, position + written)
    written += bytesWritten
  }
}

function missingEntries (path: string, expected: number, found: number): Error {
  return new CorruptionError(`${path}: log continues at index ${found} but ${expected} was expected (a segment is missing)`, { file: path, offset: 0 })
}
