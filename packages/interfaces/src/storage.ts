import type { AbortOptions } from './abort.js'
import type { Startable } from './lifecycle.js'
import type { ClusterConfig } from './membership.js'
import type { NodeId } from './transport.js'

/**
 * What an entry carries. `command` goes to the state machine; `noop` is the entry a new leader
 * appends (Raft §8); `config` holds an encoded ClusterConfig.
 */
export type EntryType = 'command' | 'noop' | 'config'

/** One log entry. Indices start at 1 and are contiguous; `term` is the term (or ballot round) it was created in. */
export interface LogEntry {
  index: number
  term: number
  type: EntryType
  data: Uint8Array
}

/**
 * A durable, append-only log of entries with a compacted prefix.
 *
 * Reads of position metadata (`firstIndex`, `lastIndex`, `term`) are synchronous and served from
 * memory; entry bodies are read asynchronously and the log need not hold them in memory.
 * Mutations resolve only once durable: after `append` resolves, a crash (`kill -9`, power loss)
 * cannot lose the entries. Concurrent mutations are applied in call order.
 */
export interface LogStorage extends Startable {
  /** The first index whose entry is present; `compactedIndex + 1`. 1 for a fresh log. */
  firstIndex(): number
  /** The last index present, or `compactedIndex` when empty (0 for a fresh log). */
  lastIndex(): number
  /**
   * The term of `index`, for `compactedIndex <= index <= lastIndex` (the compacted index answers
   * with `compactedTerm`); undefined outside that range.
   */
  term(index: number): number | undefined
  /**
   * Appends entries. The first entry's index must be at most `lastIndex() + 1`; any existing
   * entries at or after it are replaced (a conflicting suffix is truncated first, in the same
   * durable step). Rejects with ERR_INVALID_ARGUMENT for a gap or non-contiguous batch.
   */
  append(entries: readonly LogEntry[], options?: AbortOptions): Promise<void>
  /** Removes every entry with index >= `fromIndex`. */
  truncateSuffix(fromIndex: number, options?: AbortOptions): Promise<void>
  /**
   * Discards entries with index <= `upToIndex` (covered by a snapshot whose last entry had
   * `term`). May be done lazily, but `firstIndex()` reports `upToIndex + 1` at once. Compacting
   * past `lastIndex()` empties the log and moves it to `upToIndex`.
   */
  compactPrefix(upToIndex: number, term: number, options?: AbortOptions): Promise<void>
  /**
   * Entries in [from, to), in order, stopping early once `maxBytes` of data is collected (at least
   * one entry is always returned). Rejects with ERR_COMPACTED if `from < firstIndex()`.
   */
  entries(from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]>
}

/** Raft's persistent per-node state (§5, Figure 2), written before any message that depends on it. */
export interface HardState {
  term: number
  vote: NodeId | null
  commit: number
}

/**
 * A small record replaced atomically (temp file, fsync, rename, fsync the directory). Raft stores
 * its HardState here; Paxos its promised ballot. Values are plain JSON-compatible data.
 */
export interface HardStateStorage<T = HardState> extends Startable {
  /** The last saved state, or undefined if none was ever saved. */
  load(options?: AbortOptions): Promise<T | undefined>
  /** Durably replaces the state; resolves once it survives a crash. */
  save(state: T, options?: AbortOptions): Promise<void>
}

/** Describes a snapshot of the state machine as of `index` (and the membership at that point). */
export interface SnapshotMeta {
  index: number
  term: number
  config: ClusterConfig
  /** Size of the data in bytes (known once written). */
  size: number
  /** Checksum of the data as written by the storage (implementation-defined, e.g. `crc32c:1a2b3c4d`). */
  checksum: string
}

/** Writes one snapshot as a stream. Nothing is visible until `commit()` resolves. */
export interface SnapshotWriter {
  readonly meta: Pick<SnapshotMeta, 'index' | 'term' | 'config'>
  /** Bytes already written; non-zero when resuming an interrupted transfer of the same snapshot. */
  readonly offset: number
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  /** Verifies, syncs and atomically installs the snapshot; it becomes `latest()`. */
  commit(options?: AbortOptions): Promise<SnapshotMeta>
  /** Discards the partial snapshot. */
  abort(): Promise<void>
}

/** Durable snapshots, written and read as streams (never one giant buffer). */
export interface SnapshotStorage extends Startable {
  /** The newest installed snapshot. */
  latest(options?: AbortOptions): Promise<SnapshotMeta | undefined>
  /**
   * Starts writing a snapshot. If an interrupted write for the same index and term exists, it is
   * resumed and the writer's `offset` says how many bytes it already has.
   */
  begin(meta: Pick<SnapshotMeta, 'index' | 'term' | 'config'>, options?: AbortOptions): Promise<SnapshotWriter>
  /**
   * Reads an installed snapshot's data (the latest by default) as chunks, starting at `offset`.
   * Rejects with ERR_NOT_FOUND if it is not there; ERR_CORRUPT if its checksum fails.
   */
  read(options?: AbortOptions & { index?: number, offset?: number, chunkSize?: number }): AsyncIterable<Uint8Array>
  /** Deletes all but the newest `keep` snapshots. */
  prune(keep: number, options?: AbortOptions): Promise<void>
}

/** A key range query over a StateStore. Keys compare as strings (UTF-16 code units). */
export interface RangeQuery {
  /** Only keys starting with this prefix. */
  prefix?: string
  /** Inclusive lower bound. */
  start?: string
  /** Exclusive upper bound. */
  end?: string
  /** At most this many results. */
  limit?: number
}

/** A set of changes applied atomically together with the applied index. */
export interface StateBatch {
  puts?: ReadonlyArray<readonly [key: string, value: Uint8Array]>
  deletes?: readonly string[]
}

/**
 * Durable storage for a state machine's applied data, so a node resumes from `appliedIndex()`
 * instead of replaying the whole log. Reads are synchronous and see every batch passed to `write`,
 * even before its promise resolves.
 */
export interface StateStore extends Startable {
  get(key: string): Uint8Array | undefined
  range(query: RangeQuery): Array<[string, Uint8Array]>
  /** The index of the last entry whose effects are in the store (0 when empty). */
  appliedIndex(): number
  /** Applies `batch` and records `appliedIndex` in the same transaction; resolves once durable. */
  write(batch: StateBatch, appliedIndex: number, options?: AbortOptions): Promise<void>
  /** A consistent export of the whole store (as of one applied index) as a stream of chunks. */
  exportSnapshot(options?: AbortOptions): AsyncIterable<Uint8Array>
  /** Replaces the whole store with an export and sets the applied index. */
  importSnapshot(chunks: AsyncIterable<Uint8Array>, appliedIndex: number, options?: AbortOptions): Promise<void>
}
