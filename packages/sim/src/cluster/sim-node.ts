import { ResourceLockedError, type NodeId } from '@synod/interfaces'
import { createProcessClock, type ProcessClock, type ProcessClockOptions } from '../core/process-clock.js'
import type { Simulation } from '../core/simulation.js'
import { errorMessage } from '../core/simulation.js'
import { createSimDisk, type SimDisk, type SimDiskOptions } from '../disk/sim-disk.js'
import type { SimNetwork, SimTransport } from '../network/sim-network.js'
import type { SimRandom } from '../random/random.js'

/** What one incarnation of a simulated process gets to build itself from. */
export interface SimNodeContext<M = unknown> {
  readonly id: NodeId
  /** 1 for the first boot, then 2, 3, ... after each restart. */
  readonly incarnation: number
  readonly sim: Simulation
  /** This incarnation's clock: its timers die with it. */
  readonly clock: ProcessClock
  /** This incarnation's random stream (`node:<id>#<incarnation>`). */
  readonly random: SimRandom
  /** A fresh endpoint for this incarnation, with every other cluster member added as a peer. Not started. */
  readonly transport: SimTransport<M>
  /** The machine's disk, which survives crashes. Open the stores you need from it. */
  readonly disk: SimDisk
  /** Writes a line to the trace under this node's id. */
  log(text: string): void
}

/** Options for `createSimNode`. */
export interface SimNodeOptions<App, M = unknown> {
  id: NodeId
  network: SimNetwork
  /** Peers added to each incarnation's transport; a function is called at each boot. @default [] */
  peers?: readonly NodeId[] | (() => readonly NodeId[])
  /** Builds and starts one incarnation of the process. Runs inside the simulation. */
  boot(context: SimNodeContext<M>): App | Promise<App>
  /** Stops an incarnation gracefully (`node.stop()`); not called on a crash. */
  shutdown?(app: App): Promise<void> | void
  /** The node's disk. @default a disk named after the node with default latency */
  disk?: Omit<SimDiskOptions, 'name'>
  /** Clock drift of this node's process. @default exact */
  clock?: ProcessClockOptions
}

/** Options for `SimNode.crash`. */
export interface NodeCrashOptions {
  /**
   * Power loss (true) loses every unsynced write; a process crash (false, kill -9) keeps the page
   * cache, so writes already issued still become durable.
   * @default true
   */
  powerLoss?: boolean
  /** With power loss: let a prefix of the unsynced writes survive, the last one torn. @default false */
  torn?: boolean
}

/** One simulated machine: a disk that persists and a process that can crash and restart on it. */
export interface SimNode<App, M = unknown> {
  readonly id: NodeId
  readonly disk: SimDisk
  /** The running incarnation's application, once its boot finished; undefined while down. */
  readonly app: App | undefined
  readonly running: boolean
  readonly incarnation: number
  /** The running incarnation's transport (available as soon as `start()` is called); undefined while down. */
  readonly transport: SimTransport<M> | undefined
  /**
   * Boots a new incarnation. Resolves with its app as the simulation runs the boot. A boot that
   * throws fails the run (and rejects this promise); starting a running node rejects with ERR_LOCKED.
   */
  start(): Promise<App>
  /** Kills the running incarnation: its timers, transport and disk handles die at once. */
  crash(options?: NodeCrashOptions): void
  /** Crashes the node if it is running, then starts a new incarnation. */
  restart(options?: NodeCrashOptions): Promise<App>
  /**
   * Stops the running incarnation gracefully (`shutdown`, then its transport). Resolves as the
   * simulation runs, since a shutdown usually waits for simulated I/O.
   */
  stop(): Promise<void>
}

interface Incarnation<App, M> {
  number: number
  clock: ProcessClock
  transport: SimTransport<M>
  app: App | undefined
  dead: boolean
}

class SimNodeImpl<App, M> implements SimNode<App, M> {
  readonly id: NodeId
  readonly disk: SimDisk
  readonly #sim: Simulation
  readonly #options: SimNodeOptions<App, M>
  #current: Incarnation<App, M> | undefined
  #incarnations = 0

  constructor (sim: Simulation, options: SimNodeOptions<App, M>) {
    this.id = options.id
    this.#sim = sim
    this.#options = options
    this.disk = createSimDisk(sim, { ...options.disk, name: options.id })
  }

  get app (): App | undefined {
    return this.#current?.app
  }

  get transport (): SimTransport<M> | undefined {
    return this.#current?.transport
  }

  get running (): boolean {
    return this.#current !== undefined
  }

  get incarnation (): number {
    return this.#incarnations
  }

  start (): Promise<App> {
    const booting = this.#boot()
    // A failed boot has already failed the run; marking the promise handled keeps `void node.start()`
    // from turning it into an unhandled rejection, while `await node.start()` still sees the error.
    booting.catch(() => {})
    return booting
  }

  async #boot (): Promise<App> {
    if (this.#current !== undefined) throw new ResourceLockedError(`disk of ${this.id}`, `node ${this.id} is already running`)
    const number = ++this.#incarnations
    const clock = createProcessClock(this.#sim, this.#options.clock)
    const peers = this.#options.peers
    const transport = this.#options.network.endpoint<M>(this.id, { peers: typeof peers === 'function' ? peers() : peers ?? [] })
    const incarnation: Incarnation<App, M> = { number, clock, transport, app: undefined, dead: false }
    this.#current = incarnation
    this.#sim.log(this.id, number === 1 ? 'start' : `restart (incarnation ${number})`)
    const context: SimNodeContext<M> = {
      id: this.id,
      incarnation: number,
      sim: this.#sim,
      clock,
      random: this.#sim.random.fork(`node:${this.id}#${number}`),
      transport,
      disk: this.disk,
      log: (text) => { if (!incarnation.dead) this.#sim.log(this.id, text) }
    }
    try {
      const app = await this.#options.boot(context)
      if (!incarnation.dead) incarnation.app = app
      return app
    } catch (err) {
      if (!incarnation.dead) this.#sim.fail(new Error(`node ${this.id} failed to boot: ${errorMessage(err)}`, { cause: err }))
      throw err
    }
  }

  crash (options: NodeCrashOptions = {}): void {
    const incarnation = this.#current
    if (incarnation === undefined) return
    this.#current = undefined
    incarnation.dead = true
    incarnation.clock.halt()
    // Until a restart creates a new endpoint, messages to this id are undeliverable.
    this.#options.network.detach(this.id)
    const powerLoss = options.powerLoss ?? true
    this.#sim.log(this.id, powerLoss ? `CRASH (power loss${options.torn === true ? ', torn writes' : ''})` : 'CRASH (process killed)')
    if (powerLoss) this.disk.crash({ torn: options.torn ?? false })
    else this.disk.processCrash()
  }

  async restart (options?: NodeCrashOptions): Promise<App> {
    this.crash(options)
    return await this.start()
  }

  async stop (): Promise<void> {
    const incarnation = this.#current
    if (incarnation === undefined) return
    this.#sim.log(this.id, 'stop')
    if (incarnation.app !== undefined) await this.#options.shutdown?.(incarnation.app)
    await incarnation.transport.stop()
    incarnation.clock.halt()
    incarnation.dead = true
    if (this.#current === incarnation) this.#current = undefined
  }
}

/** Creates a simulated machine. Call `start()` to boot its first incarnation. */
export function createSimNode<App, M = unknown> (sim: Simulation, options: SimNodeOptions<App, M>): SimNode<App, M> {
  return new SimNodeImpl(sim, options)
}
