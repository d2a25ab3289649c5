import { writeSync } from 'node:fs'
import { open, readdir, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CompactedError, CorruptionError, InvalidArgumentError, NotStartedError, throwIfAborted, TooLargeError,
  type AbortOptions, type HardState, type HardStateStorage, type LogEntry, type Logger, type LogStorage, type Startable
} from '@synod/interfaces'
import { raceAbort } from '../util/abort.js'
import { openUnderDirLock, type DirLock } from '../util/dir-lock.js'
import { fsyncDir, removeIfExists } from '../util/fs.js'
import {
  compactRecordBytes, encodeCompactRecord, encodeEntriesRecord, encodeHardStateRecord, encodeRemoveRecord, encodeSegmentHeader,
  encodeTruncateRecord, entriesRecordBytes, ENTRY_TYPES, entryTypeCode, hardStateRecordBytes, parseSegmentFileName, RecordKind,
  removeRecordBytes, SEGMENT_HEADER_BYTES, segmentFileName, truncateRecordBytes, type DecodedRecord
} from './format.js'
import { GroupState } from './group-state.js'
import { readFully } from '../util/bytes.js'
import { scanSegment } from './scan.js'
import { createGroupHardState, createGroupLog } from './views.js'

/** Where and how a shared log keeps its journal. */
export interface SharedLogInit {
  /** Directory of the journal; created if missing, locked (`journal.lock`) while started. */
  dir: string
  /**
   * A segment is closed and a new one started once a batch would take it past this size (a
   * single larger batch gets a segment of its own). Garbage collection deletes whole segments.
   * @default 67108864 (64 MiB)
   */
  segmentBytes?: number
  /**
   * Most bytes one group commit writes before its `fdatasync`; later operations wait for the next.
   * @default 8388608 (8 MiB)
   */
  maxBatchBytes?: number
  /**
   * Largest accepted entry payload; a bigger one rejects with ERR_TOO_LARGE.
   * @default 67108864 (64 MiB)
   */
  maxEntryBytes?: number
  /**
   * Garbage collection copies the live entries of a group that lags more than
   * `rewriteLagSegments` segments behind the head to the head, if they are at most this many
   * bytes, so an idle group with a short log does not keep old segments alive (raft-engine's
   * rewrite). At most half a segment is copied per collection. 0 never copies entries.
   * @default 65536
   */
  rewriteGroupBytes?: number
  /**
   * How many segments behind the newest a group's oldest live entry may be before garbage
   * collection copies it forward (see `rewriteGroupBytes`).
   * @default 4
   */
  rewriteLagSegments?: number
}

/** What a shared log needs from its host. */
export interface SharedLogComponents {
  /** Receives a warning when start-up cuts a torn tail. @default no logging */
  logger?: Logger
}

/** Counters of a shared log since it was created. */
export interface SharedLogStats {
  /** fdatasync calls made by group commits. */
  syncs: number
  /** Operations (appends, truncations, compactions, hard-state saves, removals) made durable. */
  operations: number
  /** Segment files now in the journal. */
  segments: number
  /** Segment files deleted by garbage collection. */
  collectedSegments: number
  /** Live entries garbage collection copied forward from lagging groups. */
  rewrittenEntries: number
  /** Groups with any state. */
  groups: number
  /** Entries indexed in memory, over all groups. */
  liveEntries: number
}

/**
 * Many groups' logs and hard states in one journal. Every view's mutations become records of one
 * append-only, segmented journal; mutations from all groups that arrive while a write and its
 * `fdatasync` are in flight are written together and share the next `fdatasync`.
 */
export interface SharedLog extends Startable {
  /**
   * The log of group `id` (a non-negative 32-bit integer): the LogStorage contract, served from
   * the journal. A view is usable while the shared log is started; starting a view starts the
   * shared log, stopping one waits for that group's queued writes and makes that view reject
   * calls with ERR_NOT_STARTED until it is started again (the journal keeps running). The same
   * object is returned for the same id.
   */
  group(id: number): LogStorage
  /** The hard state of group `id`, saved as a journal record. */
  hardState<T = HardState>(id: number): HardStateStorage<T>
  /**
   * Deletes group `id` (its replica moved away): its log and hard state become empty and its
   * records dead, so garbage collection can reclaim them. Resolves once durable.
   */
  removeGroup(id: number, options?: AbortOptions): Promise<void>
  /** Ids of the groups that have any state, ascending. */
  groups(): number[]
  stats(): SharedLogStats
}

/**
 * Creates a shared log over the journal in `init.dir` (see the package README for the format,
 * recovery rules and garbage collection). Call `start()` (or start any view) before use.
 */
export function createSharedLog (init: SharedLogInit, components: SharedLogComponents = {}): SharedLog {
  return new Journal(init, components)
}

const LOCK_FILE = 'journal.lock'
/** Batches up to this size are written with a synchronous write (cheaper than a pool round trip). */
const SYNC_WRITE_MAX_BYTES = 256 * 1024
/** One positioned read covers consecutive entries of a segment up to this many bytes. */
const READ_SPAN_BYTES = 1024 * 1024

interface Settle { resolve: () => void, reject: (error: Error) => void }

type Operation =
  | { kind: 'entries', group: GroupState, entries: readonly LogEntry[], bytes: number, done?: Settle }
  | { kind: 'truncate', group: GroupState, fromIndex: number, done?: Settle }
  | { kind: 'compact', group: GroupState, upToIndex: number, term: number, done?: Settle }
  | { kind: 'hardState', group: GroupState, json: Buffer, text: string, done?: Settle }
  | { kind: 'remove', group: GroupState, done?: Settle }

interface JournalSegment {
  readonly seq: number
  readonly path: string
  readonly handle: FileHandle
  /** Bytes of valid data, header included: where the next record goes. */
  size: number
  /** Reads in progress; the file is closed only once they are done. */
  readers: number
  drained: (() => void) | undefined
}

/**
 * A view's handle on the journal (kept narrow so views cannot reach the writer's state). The views
 * validate arguments against `state(id)` before mutating; `truncate`, `compact` and
 * `saveHardState` throw ERR_NOT_STARTED (or the write failure) synchronously.
 */
export interface JournalAccess {
  readonly started: boolean
  start(): Promise<void>
  /** Resolves once every operation queued so far for group `id` is done. */
  settled(id: number): Promise<void>
  state(id: number): GroupState
  append(id: number, entries: readonly LogEntry[]): Promise<void>
  truncate(id: number, fromIndex: number): Promise<void>
  compact(id: number, upToIndex: number, term: number): Promise<void>
  saveHardState(id: number, value: unknown): Promise<void>
  read(id: number, from: number, to: number, maxBytes: number, signal: AbortSignal | undefined): Promise<LogEntry[]>
}

class Journal implements SharedLog, JournalAccess {
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly maxBatchBytes: number
  private readonly maxEntryBytes: number
  private readonly rewriteGroupBytes: number
  private readonly rewriteLagSegments: number
  private readonly logger: Logger | undefined

  started = false
  private starting: Promise<void> | undefined
  private lock: DirLock | undefined
  private readonly segments = new Map<number, JournalSegment>()
  private active: JournalSegment | undefined
  private readonly states = new Map<number, GroupState>()
  private readonly logViews = new Map<number, LogStorage>()
  private readonly hardStateViews = new Map<number, HardStateStorage<unknown>>()

  private readonly queue: Operation[] = []
  private draining: Promise<void> | undefined
  /** Set when a write or sync failed: the page cache can no longer be trusted (fsyncgate). */
  private failure: Error | undefined
  private scratch: Buffer | undefined
  private readonly counters = { syncs: 0, operations: 0, collectedSegments: 0, rewrittenEntries: 0 }

  constructor (init: SharedLogInit, components: SharedLogComponents) {
    this.dir = init.dir
    this.segmentBytes = init.segmentBytes ?? 64 * 1024 * 1024
    this.maxBatchBytes = init.maxBatchBytes ?? 8 * 1024 * 1024
    this.maxEntryBytes = init.maxEntryBytes ?? 64 * 1024 * 1024
    this.rewriteGroupBytes = init.rewriteGroupBytes ?? 64 * 1024
    this.rewriteLagSegments = init.rewriteLagSegments ?? 4
    if (!(this.rewriteGroupBytes >= 0) || !Number.isSafeInteger(this.rewriteLagSegments) || this.rewriteLagSegments < 1) {
      throw new InvalidArgumentError('rewriteGroupBytes must be >= 0 and rewriteLagSegments a positive integer', { field: 'rewriteGroupBytes' })
    }
    this.logger = components.logger
    if (!Number.isSafeInteger(this.segmentBytes) || this.segmentBytes < 4096 || this.segmentBytes > 2 ** 30) {
      throw new InvalidArgumentError('segmentBytes must be an integer from 4096 to 2^30', { field: 'segmentBytes' })
    }
    // Each bound at most 2^30 keeps every offset in a segment below 2^32 (the index stores u32).
    if (!Number.isSafeInteger(this.maxBatchBytes) || this.maxBatchBytes < 1 || this.maxBatchBytes > 2 ** 30) {
      throw new InvalidArgumentError('maxBatchBytes must be an integer from 1 to 2^30', { field: 'maxBatchBytes' })
    }
    if (!Number.isSafeInteger(this.maxEntryBytes) || this.maxEntryBytes < 0 || this.maxEntryBytes > 2 ** 30) {
      throw new InvalidArgumentError('maxEntryBytes must be an integer from 0 to 2^30', { field: 'maxEntryBytes' })
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  async start (): Promise<void> {
    if (this.started) return
    this.starting ??= this.open().finally(() => { this.starting = undefined })
    await this.starting
  }

  private async open (): Promise<void> {
    this.lock = await openUnderDirLock(this.dir, LOCK_FILE, async () => { await this.recover() }, async () => { await this.closeSegments() })
    this.failure = undefined
    this.started = true
  }

  async stop (): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => {})
    if (!this.started) return
    this.started = false
    await this.idle()
    await this.closeSegments()
    await this.lock?.release()
    this.lock = undefined
  }

  async idle (): Promise<void> {
    while (this.draining !== undefined) await this.draining
  }

  async settled (id: number): Promise<void> {
    await this.states.get(id)?.settled()
  }

  // ---- views ---------------------------------------------------------------------------------

  group (id: number): LogStorage {
    validateGroupId(id)
    let view = this.logViews.get(id)
    if (view === undefined) {
      view = createGroupLog(this, id)
      this.logViews.set(id, view)
    }
    return view
  }

  hardState<T = HardState> (id: number): HardStateStorage<T> {
    validateGroupId(id)
    let view = this.hardStateViews.get(id)
    if (view === undefined) {
      view = createGroupHardState<unknown>(this, id)
      this.hardStateViews.set(id, view)
    }
    return view as HardStateStorage<T>
  }

  async removeGroup (id: number, options?: AbortOptions): Promise<void> {
    validateGroupId(id)
    await raceAbort(options?.signal, async () => {
      this.assertWritable()
      const group = this.state(id)
      group.queuedLastIndex = 0
      group.queuedCompactedIndex = 0
      await this.enqueue({ kind: 'remove', group })
    })
  }

  groups (): number[] {
    const ids: number[] = []
    for (const [id, group] of this.states) {
      if (group.lastIndex() > 0 || group.hardStateJson !== undefined) ids.push(id)
    }
    return ids.sort((a, b) => a - b)
  }

  stats (): SharedLogStats {
    let liveEntries = 0
    for (const group of this.states.values()) liveEntries += group.liveEntries()
    return { ...this.counters, segments: this.segments.size, groups: this.groups().length, liveEntries }
  }

  state (id: number): GroupState {
    let group = this.states.get(id)
    if (group === undefined) {
      group = new GroupState(id)
      this.states.set(id, group)
    }
    return group
  }

  // ---- mutations (validated by the views against the queued state) ------------------------------

  append (id: number, entries: readonly LogEntry[]): Promise<void> {
    let bytes: number
    try {
      this.assertWritable()
      for (const entry of entries) {
        if (entry.data.byteLength > this.maxEntryBytes) throw new TooLargeError(entry.data.byteLength, this.maxEntryBytes)
      }
      bytes = entriesRecordBytes(entries)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    const group = this.state(id)
    group.queuedLastIndex = (entries.at(-1) as LogEntry).index
    return this.enqueue({ kind: 'entries', group, entries, bytes })
  }

  truncate (id: number, fromIndex: number): Promise<void> {
    this.assertWritable()
    const group = this.state(id)
    group.queuedLastIndex = Math.min(group.queuedLastIndex, fromIndex - 1)
    return this.enqueue({ kind: 'truncate', group, fromIndex })
  }

  compact (id: number, upToIndex: number, term: number): Promise<void> {
    this.assertWritable()
    const group = this.state(id)
    group.queuedCompactedIndex = upToIndex
    group.queuedLastIndex = Math.max(group.queuedLastIndex, upToIndex)
    return this.enqueue({ kind: 'compact', group, upToIndex, term })
  }

  saveHardState (id: number, value: unknown): Promise<void> {
    this.assertWritable()
    const text = JSON.stringify(value) as string | undefined
    if (text === undefined) return Promise.reject(new InvalidArgumentError('hard state must be JSON-serialisable', { field: 'state' }))
    return this.enqueue({ kind: 'hardState', group: this.state(id), json: Buffer.from(text, 'utf8'), text })
  }

  assertWritable (): void {
    if (!this.started) throw new NotStartedError('shared log is not started')
    if (this.failure !== undefined) throw this.failure
  }

  private enqueue (operation: Operation): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      operation.done = { resolve, reject }
      operation.group.pending++
      this.queue.push(operation)
      this.startDrain()
    })
  }

  private startDrain (): void {
    if (this.draining !== undefined) return
    this.draining = this.drain().finally(() => {
      this.draining = undefined
      // An operation queued after the writer found the queue empty, but before this callback ran.
      if (this.queue.length > 0) this.startDrain()
    })
  }

  // ---- the writer ------------------------------------------------------------------------------

  /**
   * The single writer: takes everything queued (up to maxBatchBytes), writes it as one batch,
   * fdatasyncs, applies it to the in-memory state and acknowledges it, in call order. Operations
   * queued meanwhile form the next batch: one sync covers every group's writes (group commit).
   */
  private async drain (): Promise<void> {
    // Yield one event-loop turn first, so operations issued in the same turn share the batch.
    await new Promise<void>((resolve) => { setImmediate(resolve) })
    while (this.queue.length > 0) {
      if (this.failure !== undefined) {
        const operation = this.queue.shift() as Operation
        operation.group.operationDone()
        operation.done?.reject(this.failure)
        continue
      }
      let bytes = 0
      let count = 0
      for (const operation of this.queue) {
        const size = operationBytes(operation)
        if (count > 0 && bytes + size > this.maxBatchBytes) break
        bytes += size
        count++
      }
      const batch = this.queue.splice(0, count)
      const rotated = await this.commit(batch, bytes)
      if (rotated && this.failure === undefined) {
        try {
          await this.collectGarbage()
        } catch (error) {
          this.logger?.warn({ error }, 'journal garbage collection failed; it is retried at the next segment')
        }
      }
    }
  }

  /** Writes, syncs, applies and acknowledges one batch. Returns whether it opened a new segment. */
  private async commit (batch: Operation[], queuedBytes: number): Promise<boolean> {
    let rotated = false
    // A hard-state save followed by another save of the same group in the batch is not written:
    // both are acknowledged by the same sync, and only the newer one may ever be loaded.
    const superseded = new Set<Operation>()
    const savedGroups = new Set<GroupState>()
    let bytes = queuedBytes
    for (let i = batch.length - 1; i >= 0; i--) {
      const operation = batch[i] as Operation
      if (operation.kind === 'remove') savedGroups.delete(operation.group)
      if (operation.kind !== 'hardState') continue
      if (savedGroups.has(operation.group)) {
        superseded.add(operation)
        bytes -= operationBytes(operation)
      }
      savedGroups.add(operation.group)
    }
    const written = superseded.size === 0 ? batch : batch.filter((operation) => !superseded.has(operation))
    try {
      let segment = this.active as JournalSegment
      if (segment.size + bytes > this.segmentBytes && segment.size > SEGMENT_HEADER_BYTES) {
        segment = await this.openSegment(segment.seq + 1)
        rotated = true
      }
      const start = segment.size
      const buffer = bytes <= SYNC_WRITE_MAX_BYTES ? (this.scratch ??= Buffer.allocUnsafe(SYNC_WRITE_MAX_BYTES)).subarray(0, bytes) : Buffer.allocUnsafe(bytes)
      const dataOffsets: number[][] = []
      let at = 0
      for (let i = 0; i < written.length; i++) at = encodeOperation(written[i] as Operation, i === 0, buffer, at, dataOffsets)
      if (bytes <= SYNC_WRITE_MAX_BYTES) writeAllSync(segment.handle, buffer, start)
      else await writeAll(segment.handle, buffer, start)
      await segment.handle.datasync()
      this.counters.syncs++
      segment.size = start + bytes
      let entriesOperation = 0
      for (const operation of written) {
        const offsets = operation.kind === 'entries' ? dataOffsets[entriesOperation++] as number[] : undefined
        this.apply(operation, segment.seq, start, offsets)
      }
    } catch (cause) {
      this.failure = cause instanceof Error ? cause : new Error(String(cause))
      this.logger?.warn({ error: this.failure }, 'journal write failed; the shared log must be restarted')
      for (const operation of batch) {
        operation.group.operationDone()
        operation.done?.reject(this.failure)
      }
      return rotated
    }
    this.counters.operations += batch.length
    for (const operation of batch) {
      operation.group.operationDone()
      operation.done?.resolve()
    }
    return rotated
  }

  private apply (operation: Operation, seq: number, start: number, dataOffsets: number[] | undefined): void {
    const group = operation.group
    switch (operation.kind) {
      case 'entries': {
        const first = (operation.entries[0] as LogEntry).index
        for (let i = 0; i < operation.entries.length; i++) {
          const entry = operation.entries[i] as LogEntry
          group.put(first + i, seq, start + (dataOffsets?.[i] as number), entry.data.byteLength, entryTypeCode(entry.type), entry.term)
        }
        break
      }
      case 'truncate':
        group.truncateFrom(operation.fromIndex)
        break
      case 'compact':
        group.compact(operation.upToIndex, operation.term)
        group.compactSeq = seq
        break
      case 'hardState':
        group.hardStateJson = operation.text
        group.hardStateSeq = seq
        break
      case 'remove':
        group.reset()
        break
    }
  }

  private async openSegment (seq: number): Promise<JournalSegment> {
    const path = join(this.dir, segmentFileName(seq))
    const handle = await open(path, 'w+')
    try {
      await writeAll(handle, encodeSegmentHeader(seq), 0)
      // The header is synced with the segment's first batch; the directory entry must be durable first.
      await fsyncDir(this.dir)
    } catch (error) {
      await handle.close()
      throw error
    }
    const segment: JournalSegment = { seq, path, handle, size: SEGMENT_HEADER_BYTES, readers: 0, drained: undefined }
    this.segments.set(seq, segment)
    this.active = segment
    return segment
  }

  // ---- garbage collection ---------------------------------------------------------------------

  /**
   * Deletes the oldest segments that hold no live entry of any group. The latest compaction and
   * hard-state record of a group must survive its segment, so records living in segments about
   * to go are first rewritten at the head of the journal (one synced batch), as raft-engine does.
   * Segments are deleted oldest first with a directory sync after each, so a crash leaves a
   * contiguous run of segments.
   */
  private async collectGarbage (): Promise<void> {
    const active = this.active as JournalSegment
    const rewrites: Operation[] = []
    // Lagging groups with short logs are copied to the head (same indices, same terms and data:
    // replay overwrites the old copies with identical entries), so they stop pinning old segments.
    const moved = new Set<GroupState>()
    if (this.rewriteGroupBytes > 0) {
      let budget = this.segmentBytes / 2
      for (const group of this.states.values()) {
        const oldest = group.oldestSeq()
        if (oldest === undefined || oldest >= active.seq - this.rewriteLagSegments) continue
        const bytes = group.liveDataBytes()
        if (bytes > this.rewriteGroupBytes || bytes > budget) continue
        budget -= bytes
        const entries = await this.read(group.id, group.compactedIndex + 1, group.lastIndex() + 1, Infinity, undefined)
        rewrites.push({ kind: 'entries', group, entries, bytes: entriesRecordBytes(entries) })
        moved.add(group)
        this.counters.rewrittenEntries += entries.length
      }
    }
    let floor = active.seq
    for (const group of this.states.values()) {
      const oldest = group.oldestSeq()
      if (oldest !== undefined && oldest < floor && !moved.has(group)) floor = oldest
    }
    const doomed = [...this.segments.values()].filter((segment) => segment.seq < floor).sort((a, b) => a.seq - b.seq)
    if (doomed.length === 0 && rewrites.length === 0) return
    for (const group of this.states.values()) {
      if (group.compactSeq !== 0 && group.compactSeq < floor) {
        rewrites.push({ kind: 'compact', group, upToIndex: group.compactedIndex, term: group.compactedTerm })
      }
      if (group.hardStateJson !== undefined && group.hardStateSeq < floor) {
        rewrites.push({ kind: 'hardState', group, json: Buffer.from(group.hardStateJson, 'utf8'), text: group.hardStateJson })
      }
    }
    if (rewrites.length > 0) {
      for (const operation of rewrites) operation.group.pending++
      let bytes = 0
      for (const operation of rewrites) bytes += operationBytes(operation)
      await this.commit(rewrites, bytes)
      if (this.failure !== undefined) return
    }
    for (const segment of doomed) {
      this.segments.delete(segment.seq)
      if (segment.readers > 0) await new Promise<void>((resolve) => { segment.drained = resolve })
      await segment.handle.close()
      await removeIfExists(segment.path)
      await fsyncDir(this.dir)
      this.counters.collectedSegments++
    }
    for (const [id, group] of this.states) {
      if (group.pending === 0 && group.lastIndex() === 0 && group.hardStateJson === undefined && group.queuedLastIndex === 0) this.states.delete(id)
    }
  }

  // ---- reads -----------------------------------------------------------------------------------

  async read (id: number, from: number, to: number, maxBytes: number, signal: AbortSignal | undefined): Promise<LogEntry[]> {
    const group = this.state(id)
    if (from <= group.compactedIndex) throw new CompactedError(from, group.compactedIndex + 1)
    const end = Math.min(to, group.lastIndex() + 1)
    // Plan synchronously (the index cannot change under it), pinning the segments to read.
    const wanted: Array<{ index: number, seq: number, offset: number, length: number, typeCode: number, term: number }> = []
    let bytes = 0
    for (let index = from; index < end; index++) {
      const location = group.location(index)
      bytes += location.length
      if (wanted.length > 0 && bytes > maxBytes) break
      wanted.push({ index, ...location })
    }
    const pinned: JournalSegment[] = []
    for (const location of wanted) {
      const segment = this.segments.get(location.seq)
      if (segment === undefined) throw new CorruptionError(`group ${id}: entry ${location.index} points to a missing segment ${location.seq}`)
      if (pinned.at(-1) !== segment) {
        segment.readers++
        pinned.push(segment)
      }
    }
    try {
      const result: LogEntry[] = []
      let runStart = 0
      while (runStart < wanted.length) {
        throwIfAborted(signal)
        const first = wanted[runStart] as (typeof wanted)[number]
        let runEnd = runStart + 1
        while (runEnd < wanted.length) {
          const next = wanted[runEnd] as (typeof wanted)[number]
          if (next.seq !== first.seq || next.offset < first.offset || next.offset + next.length - first.offset > READ_SPAN_BYTES) break
          runEnd++
        }
        const last = wanted[runEnd - 1] as (typeof wanted)[number]
        const span = Buffer.allocUnsafe(last.offset + last.length - first.offset)
        const segment = pinned.find((candidate) => candidate.seq === first.seq) as JournalSegment
        const read = await readFully(segment.handle, span, first.offset)
        if (read < span.byteLength) throw new CorruptionError(`${segment.path}: entry ${first.index} lies past the end of the file`, { file: segment.path, offset: first.offset })
        for (let i = runStart; i < runEnd; i++) {
          const location = wanted[i] as (typeof wanted)[number]
          const data = new Uint8Array(span.buffer, span.byteOffset + location.offset - first.offset, location.length)
          result.push({ index: location.index, term: location.term, type: ENTRY_TYPES[location.typeCode] ?? 'command', data })
        }
        runStart = runEnd
      }
      return result
    } finally {
      for (const segment of pinned) {
        segment.readers--
        if (segment.readers === 0) segment.drained?.()
      }
    }
  }

  // ---- recovery --------------------------------------------------------------------------------

  private async recover (): Promise<void> {
    this.states.clear()
    this.segments.clear()
    this.active = undefined
    const seqs = (await readdir(this.dir))
      .map((name) => parseSegmentFileName(name))
      .filter((seq): seq is number => seq !== undefined)
      .sort((a, b) => a - b)
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== (seqs[i - 1] as number) + 1) {
        throw new CorruptionError(`journal segment ${(seqs[i - 1] as number) + 1} is missing (found ${seqs[i - 1]} and ${seqs[i]})`, { file: join(this.dir, segmentFileName((seqs[i - 1] as number) + 1)) })
      }
    }
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i] as number
      const path = join(this.dir, segmentFileName(seq))
      const handle = await open(path, 'r+')
      let size: number | undefined
      try {
        size = await scanSegment({ path, handle, seq, isLast: i === seqs.length - 1, logger: this.logger, onRecord: (record) => { this.replay(record, seq) } })
      } catch (error) {
        await handle.close()
        throw error
      }
      if (size === undefined) {
        await handle.close()
        await removeIfExists(path)
        continue
      }
      const segment: JournalSegment = { seq, path, handle, size, readers: 0, drained: undefined }
      this.segments.set(seq, segment)
      this.active = segment
    }
    for (const group of this.states.values()) {
      if (group.unexplainedBase !== undefined) {
        throw new CorruptionError(`group ${group.id}: entries up to ${group.unexplainedBase} are missing and no compaction covers them (a segment is missing)`)
      }
      group.queuedLastIndex = group.lastIndex()
      group.queuedCompactedIndex = group.compactedIndex
    }
    if (this.active === undefined) await this.openSegment((seqs.at(-1) ?? 0) + 1)
  }

  /** Applies one recovered record; throws (turned into ERR_CORRUPT by the scan) if it cannot follow. */
  private replay (record: DecodedRecord, seq: number): void {
    if (record.kind === RecordKind.remove) {
      this.states.delete(record.group)
      return
    }
    const group = this.state(record.group)
    switch (record.kind) {
      case RecordKind.entries:
        for (let i = 0; i < record.entries.length; i++) {
          const entry = record.entries[i] as (typeof record.entries)[number]
          if (!group.put(record.firstIndex + i, seq, entry.dataOffset, entry.dataLength, entry.typeCode, entry.term, true)) {
            throw new Error(`group ${record.group}: entry ${record.firstIndex + i} does not follow its log (last ${group.lastIndex()}, compacted ${group.compactedIndex})`)
          }
        }
        break
      case RecordKind.truncate:
        group.truncateFrom(record.fromIndex)
        break
      case RecordKind.compact:
        group.compact(record.upToIndex, record.term)
        group.compactSeq = seq
        break
      case RecordKind.hardState:
        try {
          JSON.parse(record.json)
        } catch {
          throw new Error(`group ${record.group}: hard state is not valid JSON`)
        }
        group.hardStateJson = record.json
        group.hardStateSeq = seq
        break
    }
  }

  private async closeSegments (): Promise<void> {
    const segments = [...this.segments.values()]
    this.segments.clear()
    this.active = undefined
    for (const segment of segments) {
      if (segment.readers > 0) await new Promise<void>((resolve) => { segment.drained = resolve })
      await segment.handle.close()
    }
  }
}

function validateGroupId (id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new InvalidArgumentError(`group id must be an integer from 0 to 2^32 - 1, got ${id}`, { field: 'group' })
  }
}

function operationBytes (operation: Operation): number {
  switch (operation.kind) {
    case 'entries': return operation.bytes
    case 'truncate': return truncateRecordBytes()
    case 'compact': return compactRecordBytes()
    case 'hardState': return hardStateRecordBytes(operation.json)
    case 'remove': return removeRecordBytes()
  }
}

function encodeOperation (operation: Operation, batchStart: boolean, buffer: Buffer, at: number, dataOffsets: number[][]): number {
  const id = operation.group.id
  switch (operation.kind) {
    case 'entries': {
      const offsets: number[] = []
      dataOffsets.push(offsets)
      return encodeEntriesRecord(id, operation.entries, batchStart, buffer, at, offsets)
    }
    case 'truncate': return encodeTruncateRecord(id, operation.fromIndex, batchStart, buffer, at)
    case 'compact': return encodeCompactRecord(id, operation.upToIndex, operation.term, batchStart, buffer, at)
    case 'hardState': return encodeHardStateRecord(id, operation.json, batchStart, buffer, at)
    case 'remove': return encodeRemoveRecord(id, batchStart, buffer, at)
  }
}

function writeAllSync (handle: FileHandle, buffer: Buffer, position: number): void {
  let written = 0
  while (written < buffer.byteLength) {
    written += writeSync(handle.fd, buffer, written, buffer.byteLength - written, position + written)
  }
}

async function writeAll (handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0
  while (written < buffer.byteLength) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.byteLength - written, position + written)
    written += bytesWritten
  }
}
