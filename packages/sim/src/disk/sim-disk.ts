import { InvalidArgumentError, type HardState, type HardStateStorage, type LogStorage } from '@synod/interfaces'
import type { Simulation } from '../core/simulation.js'
import { uniform, type Distribution } from '../random/distributions.js'
import type { SimRandom } from '../random/random.js'
import { DurableFile, type CrashReport, type FileModel } from './durable-file.js'
import { recordModel, SimHardStateStorage, type RecordOp, type RecordState } from './hard-state-file.js'
import { logModel, SimLogStorage, type LogOp, type LogState } from './log-file.js'
import { SimSnapshotStorageHandle, snapshotModel, type SimSnapshotStorage, type SnapshotOp, type SnapshotState } from './snapshot-file.js'

export type { CrashReport } from './durable-file.js'

/** Options for `createSimDisk`. */
export interface SimDiskOptions {
  /** Names the disk in the trace and its random stream; usually the node id. */
  name: string
  /**
   * How long one fsync takes. Writes issued while an fsync runs wait for the next one, so slow
   * syncs batch more writes, as on a real disk.
   * @default uniform(0.5ms, 2ms)
   */
  syncLatency?: Distribution
  /**
   * Write each completed fsync to the trace.
   * @default false
   */
  traceSyncs?: boolean
}

/** Options for `SimDisk.crash`. */
export interface DiskCrashOptions {
  /**
   * Let a prefix of the unsynced writes reach the platter before power fails, the last of them
   * possibly torn (an append keeps some of its entries; an atomic replace happens or not). None of
   * them was acknowledged, so a correct program may not rely on them either way.
   * @default false
   */
  torn?: boolean
}

/**
 * The disk of one simulated machine. It outlives process crashes: open its stores in each
 * incarnation of the process, and they hold exactly what was durable when the last one died.
 *
 * Every store is a file with a page cache: writes are visible to reads at once and their promises
 * resolve only after a simulated fsync. `crash()` cuts the power: unsynced writes are lost, and every
 * handle opened before it is dead (its pending promises never settle, new calls reject with
 * ERR_STOPPED), like the process that held it.
 */
export interface SimDisk {
  readonly name: string
  /** Opens the log stored in `file`. */
  log(file?: string): LogStorage
  /** Opens the atomically replaced record stored in `file`. */
  hardState<T = HardState>(file?: string): HardStateStorage<T>
  /** Opens the snapshot directory `file`. */
  snapshots(file?: string): SimSnapshotStorage
  /** Power loss. Returns what happened to each file that had unsynced writes. */
  crash(options?: DiskCrashOptions): CrashReport[]
  /**
   * The process using the disk died but the machine kept running (kill -9): writes already issued
   * stay in the page cache and still reach the platter, but handles opened before are dead.
   */
  processCrash(): void
  /**
   * Changes how long fsyncs take from the next one on (a disk that stalls); without an argument,
   * restores the latency the disk was created with.
   */
  setSyncLatency(latency?: Distribution): void
  /** Writes issued and not yet synced, over all files. */
  readonly unsyncedWrites: number
  /** Completed fsyncs. */
  readonly syncs: number
  /** Flips a byte of installed snapshot `index` in `file` (bit rot); reads then fail with ERR_CORRUPT. */
  corruptSnapshot(index: number, file?: string): boolean
}

class SimDiskImpl implements SimDisk {
  readonly name: string
  readonly #sim: Simulation
  readonly #random: SimRandom
  readonly #defaultSyncLatency: Distribution
  #syncLatency: Distribution
  readonly #traceSyncs: boolean
  readonly #files = new Map<string, DurableFile<unknown, unknown>>()
  #generation = 0
  #syncs = 0

  constructor (sim: Simulation, options: SimDiskOptions) {
    this.name = options.name
    this.#sim = sim
    this.#random = sim.random.fork(`disk:${options.name}`)
    this.#defaultSyncLatency = options.syncLatency ?? uniform(0.5, 2)
    this.#syncLatency = this.#defaultSyncLatency
    this.#traceSyncs = options.traceSyncs ?? false
  }

  get syncs (): number {
    return this.#syncs
  }

  get unsyncedWrites (): number {
    let total = 0
    for (const file of this.#files.values()) total += file.unsynced
    return total
  }

  log (file = 'log'): LogStorage {
    return new SimLogStorage(this.#open<LogState, LogOp>(file, logModel), this.#aliveCheck())
  }

  hardState<T = HardState>(file = 'hard-state'): HardStateStorage<T> {
    return new SimHardStateStorage<T>(this.#open<RecordState, RecordOp>(file, recordModel), this.#aliveCheck())
  }

  snapshots (file = 'snapshots'): SimSnapshotStorage {
    return new SimSnapshotStorageHandle(this.#open<SnapshotState, SnapshotOp>(file, snapshotModel), this.#aliveCheck())
  }

  crash (options: DiskCrashOptions = {}): CrashReport[] {
    this.#generation++
    const reports: CrashReport[] = []
    for (const file of [...this.#files.values()]) {
      const report = file.crash(options.torn ?? false)
      if (report.unsynced > 0) reports.push(report)
    }
    const detail = reports.map((report) => `${report.file}: lost ${report.unsynced - report.survivedWhole - (report.survivedTorn ? 1 : 0)} of ${report.unsynced} unsynced${report.survivedTorn ? ' (last survivor torn)' : ''}`)
    this.#sim.log(`disk:${this.name}`, `power loss${options.torn === true ? ' (torn writes)' : ''}${detail.length > 0 ? `; ${detail.join('; ')}` : '; nothing unsynced'}`)
    return reports
  }

  setSyncLatency (latency?: Distribution): void {
    this.#syncLatency = latency ?? this.#defaultSyncLatency
    this.#sim.log(`disk:${this.name}`, latency === undefined ? 'fsync latency restored' : `fsync latency now ${latency.description}`)
  }

  processCrash (): void {
    this.#generation++
    for (const file of this.#files.values()) file.abandonWaiters()
  }

  corruptSnapshot (index: number, file = 'snapshots'): boolean {
    const found = this.snapshots(file).corrupt(index)
    if (found) this.#sim.log(`disk:${this.name}`, `bit rot in ${file} snapshot ${index}`)
    return found
  }

  #aliveCheck (): () => boolean {
    const generation = this.#generation
    return () => generation === this.#generation
  }

  #open<State, Op>(name: string, model: FileModel<State, Op>): DurableFile<State, Op> {
    const existing = this.#files.get(name)
    if (existing !== undefined) {
      if (existing.model.kind !== model.kind) {
        throw new InvalidArgumentError(`file ${name} on disk ${this.name} holds a ${existing.model.kind}, not a ${model.kind}`, { field: 'file' })
      }
      return existing as unknown as DurableFile<State, Op>
    }
    const file = new DurableFile<State, Op>({
      name,
      model,
      sim: this.#sim,
      random: this.#random,
      syncLatency: () => this.#syncLatency,
      onSync: (synced, ops) => {
        this.#syncs++
        if (this.#traceSyncs) this.#sim.log(`disk:${this.name}`, `fsync ${synced.name} (${ops} writes)`)
      }
    })
    this.#files.set(name, file as unknown as DurableFile<unknown, unknown>)
    return file
  }
}

/**
 * Creates the disk of one simulated machine.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 3 })
 * const disk = createSimDisk(sim, { name: 'n1' })
 * const state = disk.hardState()
 * await state.start()
 * const saved = state.save({ term: 1, vote: 'n1', commit: 0 })
 * await sim.runUntilQuiet() // the fsync completes in virtual time
 * await saved
 * ```
 */
export function createSimDisk (sim: Simulation, options: SimDiskOptions): SimDisk {
  return new SimDiskImpl(sim, options)
}
