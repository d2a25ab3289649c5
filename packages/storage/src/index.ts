/**
 * @packageDocumentation
 *
 * Durable storage for Synod's consensus: a segmented write-ahead log with group commit, atomically
 * replaced hard state, streamed snapshots and an LMDB state store, plus in-memory versions of every
 * contract for tests and the simulator.
 *
 * - `wal/`: the file log (frames, segments, recovery, term index)
 * - `journal/`: the shared log, many groups' logs and hard states in one journal
 * - `hard-state/`, `snapshot/`, `state-store/`: the other file-backed contracts
 * - `memory/`: the in-memory implementations
 * - `util/`: checksums, atomic files, the directory lock, abort handling
 *
 * @example
 * ```ts
 * import { createMemoryLogStorage } from '@synod/storage'
 *
 * const log = createMemoryLogStorage()
 * await log.start()
 * await log.append([{ index: 1, term: 1, type: 'noop', data: new Uint8Array() }])
 * console.log(log.lastIndex(), log.term(1))
 * await log.stop()
 * ```
 */
export { createMemoryLogStorage, type MemoryLogStorageOptions } from './memory/log-storage.js'
export { createMemoryHardStateStorage } from './memory/hard-state-storage.js'
export { createMemorySnapshotStorage } from './memory/snapshot-storage.js'
export { createMemoryStateStore } from './memory/state-store.js'
export { createFileLogStorage, type FileLogStorageInit, type FileLogStorageComponents } from './wal/file-log-storage.js'
export { createFileHardStateStorage, type FileHardStateStorageInit } from './hard-state/file-hard-state-storage.js'
export { createFileSnapshotStorage, type FileSnapshotStorageInit } from './snapshot/file-snapshot-storage.js'
export { createSharedLog, type SharedLog, type SharedLogInit, type SharedLogComponents, type SharedLogStats } from './journal/shared-log.js'
export { createLmdbStateStore, type LmdbStateStoreInit } from './state-store/lmdb-state-store.js'
