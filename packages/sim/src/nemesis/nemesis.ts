import type { NodeId } from '@synod/interfaces'
import type { SimCluster } from '../cluster/sim-cluster.js'
import type { NodeCrashOptions } from '../cluster/sim-node.js'
import type { ScheduledTask } from '../core/simulation.js'
import { uniform, type Distribution } from '../random/distributions.js'
import type { LinkOptions } from '../network/link.js'
import type { PartitionPlan } from '../network/partitions.js'
import type { SimRandom } from '../random/random.js'

/** The faults a random nemesis chooses from. */
export type FaultKind =
  | 'partition-halves'
  | 'isolate'
  | 'bridge'
  | 'majority-ring'
  | 'one-way'
  | 'crash'
  | 'crash-torn'
  | 'kill'
  | 'slow-node'
  | 'lossy-node'
  | 'slow-disk'

export const allFaults: readonly FaultKind[] = [
  'partition-halves', 'isolate', 'bridge', 'majority-ring', 'one-way', 'crash', 'crash-torn', 'kill', 'slow-node', 'lossy-node', 'slow-disk'
]

/** Options for `createNemesis`. */
export interface NemesisOptions {
  /** Faults the random schedule picks from. @default every FaultKind */
  faults?: readonly FaultKind[]
  /** Quiet time between the end of one fault and the start of the next. @default uniform(200ms, 2000ms) */
  interval?: Distribution
  /** How long a fault lasts before it is healed (partitions) or the node restarted (crashes). @default uniform(500ms, 5000ms) */
  duration?: Distribution
  /**
   * Chooses the node that `isolate`, `crash`, `crash-torn` and `kill` hit, e.g. the current leader.
   * When it returns undefined, or is not given, a random running node is hit.
   * @default a random running node
   */
  target?: () => NodeId | undefined
  /** Latency of every link to and from the target during `slow-node`. @default uniform(50ms, 500ms) */
  slowLatency?: Distribution
  /** Loss rate of every link to and from the target during `lossy-node`. @default 0.5 */
  lossyLoss?: number
  /** fsync latency of the target's disk during `slow-disk` (an fsync stall). @default uniform(50ms, 500ms) */
  slowDiskLatency?: Distribution
}

/** One step of a scripted scenario. */
export interface ScenarioStep {
  /** Virtual time (absolute, in ms) at which it runs. */
  at: number
  /** Shown in the trace. */
  name: string
  run(): void | Promise<unknown>
}

/**
 * Injects faults into a cluster, each written to the trace under `nemesis`: scripted steps at
 * given times, or a random schedule drawn from the `nemesis` stream. One random fault is active
 * at a time: it is applied, lasts for `duration`, then is healed.
 */
export interface Nemesis {
  /** Starts the random schedule. It runs until `stop()` or, if given, until virtual time `until`. */
  start(options?: { until?: number }): void
  /** Stops the random schedule and heals everything (see `healAll`). */
  stop(): void
  /** Schedules scripted steps. */
  script(steps: readonly ScenarioStep[]): void
  /** Applies one fault now; `node` overrides the target of node faults. Returns a description. */
  inject(kind: FaultKind, node?: NodeId): string
  /**
   * Heals the network (partitions and degraded links), restores slowed disks and restarts every node that is down. The
   * restarted nodes boot as the simulation runs; a boot that fails fails the run.
   */
  healAll(): void
  /** Faults injected so far, as trace text. */
  readonly history: readonly string[]
}

class NemesisImpl implements Nemesis {
  readonly history: string[] = []
  readonly #cluster: SimCluster<unknown, unknown>
  readonly #random: SimRandom
  readonly #faults: readonly FaultKind[]
  readonly #interval: Distribution
  readonly #duration: Distribution
  readonly #target: (() => NodeId | undefined) | undefined
  readonly #slowLatency: Distribution
  readonly #lossyLoss: number
  readonly #slowDiskLatency: Distribution
  /** Nodes whose disk the nemesis slowed down. */
  readonly #slowDisks = new Set<NodeId>()
  /** Links the nemesis degraded, with the override each had before, to restore on heal. */
  readonly #degraded = new Map<string, { from: NodeId, to: NodeId, before: LinkOptions | undefined }>()
  #pending: ScheduledTask | undefined
  #until = Infinity
  #active = false

  constructor (cluster: SimCluster<unknown, unknown>, options: NemesisOptions) {
    this.#cluster = cluster
    this.#random = cluster.sim.random.fork('nemesis')
    this.#faults = options.faults ?? allFaults
    this.#interval = options.interval ?? uniform(200, 2000)
    this.#duration = options.duration ?? uniform(500, 5000)
    this.#target = options.target
    this.#slowLatency = options.slowLatency ?? uniform(50, 500)
    this.#lossyLoss = options.lossyLoss ?? 0.5
    this.#slowDiskLatency = options.slowDiskLatency ?? uniform(50, 500)
  }

  start (options: { until?: number } = {}): void {
    if (this.#active) return
    this.#active = true
    this.#until = options.until ?? Infinity
    this.#log(`random schedule started (${this.#faults.join(', ')})`)
    this.#scheduleNext()
  }

  stop (): void {
    this.#active = false
    this.#pending?.cancel()
    this.#pending = undefined
    this.healAll()
  }

  script (steps: readonly ScenarioStep[]): void {
    const sim = this.#cluster.sim
    for (const step of steps) {
      sim.scheduleAt(step.at, () => {
        this.#log(step.name)
        const result = step.run()
        if (result instanceof Promise) sim.spawn(`scenario step "${step.name}"`, async () => { await result })
      }, { kind: 'nemesis' })
    }
  }

  inject (kind: FaultKind, node?: NodeId): string {
    const network = this.#cluster.network
    const ids = [...this.#cluster.ids]
    let description: string
    const partition = (plan: PartitionPlan): string => plan.description
    switch (kind) {
      case 'partition-halves': description = partition(network.partitionHalves(ids)); break
      case 'isolate': description = partition(network.isolate(node ?? this.#pickTarget(), ids)); break
      case 'bridge': description = partition(network.bridge({ nodes: ids })); break
      case 'majority-ring': description = partition(network.majorityRing(ids)); break
      case 'one-way': {
        const shuffled = this.#random.shuffle(ids)
        const split = 1 + this.#random.int(Math.max(1, ids.length - 1))
        description = partition(network.oneWay(shuffled.slice(0, split).sort(), shuffled.slice(split).sort()))
        break
      }
      case 'crash':
      case 'crash-torn':
      case 'kill': {
        const target = node ?? this.#pickTarget()
        const crash: NodeCrashOptions = kind === 'kill' ? { powerLoss: false } : { powerLoss: true, torn: kind === 'crash-torn' }
        this.#cluster.node(target).crash(crash)
        description = `${kind} ${target}`
        break
      }
      case 'slow-node':
      case 'lossy-node': {
        const target = node ?? this.#pickTarget()
        const degrade: LinkOptions = kind === 'slow-node' ? { latency: this.#slowLatency } : { loss: this.#lossyLoss }
        for (const other of ids) {
          if (other === target) continue
          this.#degrade(target, other, degrade)
          this.#degrade(other, target, degrade)
        }
        description = kind === 'slow-node'
          ? `slow-node ${target} (${this.#slowLatency.description})`
          : `lossy-node ${target} (loss ${this.#lossyLoss})`
        break
      }
      case 'slow-disk': {
        const target = node ?? this.#pickTarget()
        this.#cluster.node(target).disk.setSyncLatency(this.#slowDiskLatency)
        this.#slowDisks.add(target)
        description = `slow-disk ${target} (fsync ${this.#slowDiskLatency.description})`
        break
      }
    }
    this.history.push(description)
    this.#log(description)
    return description
  }

  healAll (): void {
    const network = this.#cluster.network
    network.heal()
    if (this.#degraded.size > 0) this.#log('restore degraded links')
    for (const { from, to, before } of this.#degraded.values()) {
      network.resetLink(from, to)
      if (before !== undefined) network.configureLink(from, to, before)
    }
    this.#degraded.clear()
    for (const id of this.#slowDisks) this.#cluster.node(id).disk.setSyncLatency()
    this.#slowDisks.clear()
    const down = this.#cluster.nodes().filter((node) => !node.running)
    if (down.length > 0) this.#log(`restart ${down.map((node) => node.id).join(' ')}`)
    // A failed boot has already failed the run (SimNode.start does that); nothing more to report.
    for (const node of down) node.start().catch(() => {})
  }

  #degrade (from: NodeId, to: NodeId, options: LinkOptions): void {
    const key = `${from}\u0000${to}`
    if (!this.#degraded.has(key)) this.#degraded.set(key, { from, to, before: this.#cluster.network.linkOverride(from, to) })
    this.#cluster.network.configureLink(from, to, options)
  }

  #pickTarget (): NodeId {
    const wanted = this.#target?.()
    if (wanted !== undefined) return wanted
    const running = this.#cluster.running().map((node) => node.id)
    return this.#random.pick(running.length > 0 ? running : [...this.#cluster.ids])
  }

  #scheduleNext (): void {
    const sim = this.#cluster.sim
    const at = sim.now() + this.#interval.sample(this.#random)
    if (!this.#active || at >= this.#until) return
    // Timer-kind events: an armed nemesis does not keep `runUntilQuiet` from returning.
    this.#pending = sim.scheduleAt(at, () => {
      const kind = this.#random.pick(this.#faults)
      this.inject(kind)
      const end = Math.min(sim.now() + this.#duration.sample(this.#random), this.#until)
      this.#pending = sim.scheduleAt(end, () => {
        this.#pending = undefined
        this.healAll()
        this.#scheduleNext()
      }, { kind: 'timer' })
    }, { kind: 'timer' })
  }

  #log (text: string): void {
    this.#cluster.sim.log('nemesis', text)
  }
}

/**
 * Creates a nemesis for `cluster`.
 *
 * @example
 * ```ts
 * const nemesis = createNemesis(cluster, { faults: ['partition-halves', 'crash'], target: () => leaderId() })
 * nemesis.start({ until: 60_000 })
 * await sim.runUntilTime(60_000)
 * nemesis.stop() // heal and restart everything before checking convergence
 * await sim.runUntilQuiet()
 * ```
 */
export function createNemesis<App, M> (cluster: SimCluster<App, M>, options: NemesisOptions = {}): Nemesis {
  return new NemesisImpl(cluster, options)
}
