import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { HardStateStorage, LogStorage, SnapshotStorage } from '@synod/interfaces'
import {
  createFileHardStateStorage, createFileLogStorage, createFileSnapshotStorage,
  createMemoryHardStateStorage, createMemoryLogStorage, createMemorySnapshotStorage, createSharedLog, type SharedLog
} from '@synod/storage'
import type { GroupId } from './group-mux.js'
import { createSharedHardStateStore } from './shared-hard-state.js'

/** The durable state of one shard replica. */
export interface ShardStorage {
  log: LogStorage
  hardState: HardStateStorage
  snapshots: SnapshotStorage
  /** Deletes the replica's data for good, once it is stopped (its shard moved away). @default keeps the data */
  destroy?: () => Promise<void>
}

/** Opens (creates) the storage of a shard replica. Called once per hosted shard. */
export type ShardStorageFactory = (shard: GroupId) => ShardStorage

/** In-memory storage per shard, for tests and benchmarks. */
export function memoryShardStorage (): ShardStorageFactory {
  return () => ({ log: createMemoryLogStorage(), hardState: createMemoryHardStateStorage(), snapshots: createMemorySnapshotStorage() })
}

/** Options of `fileShardStorage`. */
export interface FileShardStorageInit {
  /** The node's data directory; shard `n` lives in `<dataDir>/shards/<n>/`. */
  dataDir: string
  /**
   * Segment size of each shard's log. Small, because a node hosts hundreds of logs and an idle
   * shard's log is mostly empty; the file log's 64 MiB default suits one log per node.
   * @default 4194304 (4 MiB)
   */
  segmentBytes?: number
  /**
   * Zero-fill each log's next segment ahead of time. Off by default: with 1,000 shards that is
   * 1,000 segments written for nothing (4 GiB at 4 MiB segments); a busy shard pays one extra
   * file-size update per `fdatasync` instead.
   * @default false
   */
  preallocate?: boolean
  /**
   * Keep every shard's hard state in one file, `<dataDir>/shards/hard-state.json`, written once
   * for all the saves that arrive together (see `shared-hard-state.ts`); when false, a file per shard.
   * @default true
   */
  sharedHardState?: boolean
}

/**
 * One file log, hard state and snapshot directory per shard, under `<dataDir>/shards/<id>/`.
 * A log per group (rather than one shared log with group ids) keeps each shard's log a plain
 * Synod file log: truncation, compaction and snapshot install stay per shard, and a moved replica
 * is deleted with its directory. Its cost is one `fdatasync` per shard per write batch where a
 * shared log would pay one per node (see the README's storage figures).
 */
export function fileShardStorage (init: FileShardStorageInit): ShardStorageFactory {
  const segmentBytes = init.segmentBytes ?? 4 * 1024 * 1024
  const preallocate = init.preallocate ?? false
  const shared = (init.sharedHardState ?? true) ? createSharedHardStateStore(join(init.dataDir, 'shards', 'hard-state.json')) : undefined
  return (shard) => {
    const dir = join(init.dataDir, 'shards', String(shard))
    return {
      log: createFileLogStorage({ dir: join(dir, 'wal'), segmentBytes, preallocate }),
      hardState: shared?.forShard(shard) ?? createFileHardStateStorage({ dir }),
      snapshots: createFileSnapshotStorage({ dir: join(dir, 'snapshots') }),
      destroy: async () => {
        await shared?.forget(shard)
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
}

/** Options of `journalShardStorage`. */
export interface JournalShardStorageInit {
  /** The node's data directory; the journal lives in `<dataDir>/shards/journal/`, snapshots in `<dataDir>/shards/<id>/snapshots/`. */
  dataDir: string
  /** Journal segment size. @default the shared log's (64 MiB) */
  segmentBytes?: number
}

/** A storage factory over one shared journal, which must be stopped once the host has stopped. */
export interface JournalShardStorage extends ShardStorageFactory {
  readonly journal: SharedLog
}

/**
 * Every shard's log and hard state in one journal per node (`@synod/storage`'s shared log): the
 * appends and hard-state saves of all shards that arrive together share one `fdatasync`, where a
 * log per shard pays one per shard. Snapshots stay per shard. A replica that moves away is removed
 * from the journal (its records become garbage) and its snapshot directory deleted.
 */
export function journalShardStorage (init: JournalShardStorageInit): JournalShardStorage {
  const journal = createSharedLog({ dir: join(init.dataDir, 'shards', 'journal'), ...(init.segmentBytes === undefined ? {} : { segmentBytes: init.segmentBytes }) })
  const factory = (shard: GroupId): ShardStorage => {
    // Journal group ids are unsigned 32-bit: the metadata (-1) and lock (-2) groups wrap around.
    const id = shard >>> 0
    const dir = join(init.dataDir, 'shards', String(shard))
    return {
      log: journal.group(id),
      hardState: journal.hardState(id),
      snapshots: createFileSnapshotStorage({ dir: join(dir, 'snapshots') }),
      destroy: async () => {
        await journal.removeGroup(id)
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
  return Object.assign(factory, { journal })
}
