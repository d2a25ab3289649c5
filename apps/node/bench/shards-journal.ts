// Benchmark-only: the write path of a shared log, to measure it against a log per shard before
// building one. Each shard's LogStorage keeps its entries in memory and makes every append durable
// through one node-wide journal file: appends from all shards that arrive while an fdatasync is in
// flight are written together and share the next one (group commit across groups). It has no
// recovery and no journal garbage collection, so it is not a storage; it shows what a real shared
// log (TiKV's raft-engine, Dragonboat's shared tan log) would buy in fsyncs.
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { Packr } from 'msgpackr'
import type { AbortOptions, HardStateStorage, LogEntry, LogStorage } from '@synod/interfaces'
import { createMemoryHardStateStorage, createMemoryLogStorage, createMemorySnapshotStorage } from '@synod/storage'
import type { ShardStorageFactory } from '../src/sharding/shard-storage.js'

const packr = new Packr({ useRecords: false })

class Journal {
  #handle: FileHandle | undefined
  #opening: Promise<FileHandle> | undefined
  #pending: Buffer[] = []
  #waiters: Array<() => void> = []
  #writing: Promise<void> | undefined
  fsyncs = 0

  constructor (readonly path: string) {}

  async write (record: Buffer): Promise<void> {
    this.#pending.push(record)
    await new Promise<void>((resolve) => {
      this.#waiters.push(resolve)
      this.#writing ??= this.#drain().finally(() => { this.#writing = undefined })
    })
  }

  async #drain (): Promise<void> {
    this.#opening ??= open(this.path, 'a')
    this.#handle ??= await this.#opening
    while (this.#pending.length > 0) {
      const batch = this.#pending
      const waiters = this.#waiters
      this.#pending = []
      this.#waiters = []
      await this.#handle.write(Buffer.concat(batch))
      await this.#handle.datasync()
      this.fsyncs++
      for (const waiter of waiters) waiter()
    }
  }

  async close (): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
    await this.#handle?.close()
  }
}

function journaledLog (journal: Journal, shard: number): LogStorage {
  const memory = createMemoryLogStorage({ copy: false })
  return {
    start: async () => { await memory.start() },
    stop: async () => { await memory.stop() },
    firstIndex: () => memory.firstIndex(),
    lastIndex: () => memory.lastIndex(),
    term: (index) => memory.term(index),
    entries: async (from, to, options) => await memory.entries(from, to, options),
    async append (entries: readonly LogEntry[], options?: AbortOptions) {
      await Promise.all([memory.append(entries, options), journal.write(packr.pack({ shard, entries }))])
    },
    async truncateSuffix (fromIndex, options) {
      await Promise.all([memory.truncateSuffix(fromIndex, options), journal.write(packr.pack({ shard, truncate: fromIndex }))])
    },
    async compactPrefix (upToIndex, term, options) {
      await memory.compactPrefix(upToIndex, term, options)
    }
  }
}

/** Hard state through the same journal: one fsync covers the logs and hard states of every shard. */
function journaledHardState (journal: Journal, shard: number): HardStateStorage {
  const memory = createMemoryHardStateStorage()
  return {
    start: async () => { await memory.start() },
    stop: async () => { await memory.stop() },
    load: async (options) => await memory.load(options),
    async save (state, options) {
      await Promise.all([memory.save(state, options), journal.write(packr.pack({ shard, hardState: state }))])
    }
  }
}

/** Shard storage whose durability goes through one journal per node. */
export function sharedJournalStorage (dataDir: string): { factory: ShardStorageFactory, journal: Journal } {
  const journal = new Journal(join(dataDir, 'journal.log'))
  return {
    journal,
    factory: (shard) => ({ log: journaledLog(journal, shard), hardState: journaledHardState(journal, shard), snapshots: createMemorySnapshotStorage() })
  }
}
