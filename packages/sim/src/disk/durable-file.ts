import { StoppedError } from '@synod/interfaces'
import type { ScheduledTask, Simulation } from '../core/simulation.js'
import type { Distribution } from '../random/distributions.js'
import type { SimRandom } from '../random/random.js'

/** How one kind of simulated file applies, copies and tears its operations. */
export interface FileModel<State, Op> {
  readonly kind: string
  empty(): State
  copy(state: State): State
  /** Applies `op` to `state` in place. Ops are applied twice: to the page cache, later to the platter. */
  apply(state: State, op: Op): void
  /**
   * The part of `op` that reached the platter when power failed mid-write, or undefined if none
   * did. Atomic operations (a rename) return `op` or undefined; an append may return a prefix.
   */
  tear(op: Op, random: SimRandom): Op | undefined
  describe(op: Op): string
}

interface PendingOp<Op> {
  op: Op
  resolve: () => void
}

/** What a crash did to one file, for the trace and for tests. */
export interface CrashReport {
  file: string
  /** Writes that were issued but not yet synced when power failed. */
  unsynced: number
  /** Of those, how many reached the platter whole, and whether one more reached it in part. */
  survivedWhole: number
  survivedTorn: boolean
}

/**
 * One simulated file with a page cache and a platter. Mutations change the page cache at once
 * (reads see them) and are queued for an fsync; their promises resolve only when the fsync that
 * covers them completes. A crash resets the page cache to the platter, losing whatever was not
 * synced, optionally after letting a prefix of the unsynced writes (the last one possibly torn)
 * reach the platter, as a power cut in the middle of a write would.
 */
export class DurableFile<State, Op> {
  readonly name: string
  readonly model: FileModel<State, Op>
  /** What reads see: the platter plus every write since. */
  cache: State
  #platter: State
  #queued: Array<PendingOp<Op>> = []
  #syncing: Array<PendingOp<Op>> = []
  #syncTask: ScheduledTask | undefined
  readonly #sim: Simulation
  readonly #random: SimRandom
  readonly #syncLatency: () => Distribution
  readonly #onSync: (file: DurableFile<State, Op>, ops: number) => void

  constructor (init: {
    name: string
    model: FileModel<State, Op>
    sim: Simulation
    random: SimRandom
    /** Read at each fsync, so a nemesis can slow the disk down and restore it. */
    syncLatency: () => Distribution
    onSync: (file: DurableFile<State, Op>, ops: number) => void
  }) {
    this.name = init.name
    this.model = init.model
    this.#sim = init.sim
    this.#random = init.random
    this.#syncLatency = init.syncLatency
    this.#onSync = init.onSync
    this.#platter = init.model.empty()
    this.cache = init.model.empty()
  }

  /** Writes not yet synced. */
  get unsynced (): number {
    return this.#queued.length + this.#syncing.length
  }

  /** Applies `op` to the cache now; resolves once an fsync made it durable. */
  async write (op: Op): Promise<void> {
    this.model.apply(this.cache, op)
    return await new Promise<void>((resolve) => {
      this.#queued.push({ op, resolve })
      if (this.#syncTask === undefined) this.#startSync()
    })
  }

  /** Resolves once every write issued so far is durable. */
  async flush (): Promise<void> {
    if (this.unsynced === 0) return
    await new Promise<void>((resolve) => {
      const last = this.#queued.at(-1) ?? this.#syncing.at(-1)
      if (last === undefined) { resolve(); return }
      const previous = last.resolve
      last.resolve = () => { previous(); resolve() }
    })
  }

  #startSync (): void {
    // An fsync covers what was written before it started; later writes wait for the next one.
    this.#syncing = this.#queued
    this.#queued = []
    this.#syncTask = this.#sim.schedule(this.#syncLatency().sample(this.#random), () => { this.#completeSync() }, { kind: 'disk' })
  }

  #completeSync (): void {
    const done = this.#syncing
    this.#syncing = []
    this.#syncTask = undefined
    for (const { op } of done) this.model.apply(this.#platter, op)
    this.#onSync(this, done.length)
    for (const { resolve } of done) resolve()
    if (this.#queued.length > 0) this.#startSync()
  }

  /** Power loss. Pending promises are abandoned: the process that awaited them is gone. */
  crash (torn: boolean): CrashReport {
    this.#syncTask?.cancel()
    this.#syncTask = undefined
    const lost = [...this.#syncing, ...this.#queued]
    this.#syncing = []
    this.#queued = []
    let survivedWhole = 0
    let survivedTorn = false
    if (torn && lost.length > 0) {
      // Whatever reached the platter is a prefix of the issue order: a log with per-record
      // checksums recovers exactly that, and an atomic rename either happened or did not.
      survivedWhole = this.#random.int(lost.length)
      for (let i = 0; i < survivedWhole; i++) this.model.apply(this.#platter, (lost[i] as PendingOp<Op>).op)
      const partial = this.model.tear((lost[survivedWhole] as PendingOp<Op>).op, this.#random)
      if (partial !== undefined) {
        this.model.apply(this.#platter, partial)
        survivedTorn = true
      }
    }
    this.cache = this.model.copy(this.#platter)
    return { file: this.name, unsynced: lost.length, survivedWhole, survivedTorn }
  }

  /**
   * The process died but the machine did not: the page cache survives and keeps syncing, but
   * nobody is waiting for the promises any more.
   */
  abandonWaiters (): void {
    for (const pending of [...this.#syncing, ...this.#queued]) pending.resolve = () => {}
  }

  /** Lets a test or a nemesis reach under the file system (bit rot). */
  mutatePlatter (mutate: (platter: State) => void): void {
    mutate(this.#platter)
    mutate(this.cache)
  }
}

/** Rejects calls on a handle whose process crashed. */
export function deadHandleError (kind: string): StoppedError {
  return new StoppedError(`this ${kind} handle belongs to a crashed process; open the disk again after restart`)
}
