import type { Simulation } from '../core/simulation.js'
import { createSimulation, errorMessage } from '../core/simulation.js'
import type { TraceOptions } from '../core/trace.js'

/** What a workload gets for one seed. */
export interface WorkloadContext {
  /** The run's simulation: take time, randomness, network and disks from it. */
  readonly sim: Simulation
  readonly seed: number
  /** How long to run, in virtual milliseconds (the workload's default unless `--duration` is given). */
  readonly duration: number
  /** Extra settings from the command line (`--set key=value`), for the workload to interpret. */
  readonly settings: Readonly<Record<string, string>>
}

/** Numbers a workload reports for a seed (operations done, leader changes, ...), shown per seed. */
export type WorkloadStats = Record<string, number | string>

/**
 * A simulated test that runs one seed. Raft, Paxos and the lock service define theirs in their own
 * packages and expose them to the `synod-sim` command line (see `runSimCli`).
 *
 * A run fails when `run` rejects, or when the simulation fails (an invariant, a throwing event, a
 * rejected `sim.spawn` task). Everything the run does must come from `context.sim`, so that the seed
 * alone replays it.
 */
export interface Workload {
  /** Name on the command line: lower case, dashes. */
  readonly name: string
  /** One line for `--list`. @default '' */
  readonly description?: string
  /**
   * Virtual milliseconds per seed unless `--duration` overrides it.
   * @default 60_000
   */
  readonly duration?: number
  run(context: WorkloadContext): Promise<WorkloadStats | void>
}

/** Identity helper that gives a workload literal its type. */
export function defineWorkload (workload: Workload): Workload {
  return workload
}

/** Options for `runSeed`. */
export interface RunSeedOptions {
  /** Overrides the workload's duration. @default the workload's `duration` */
  duration?: number
  /** @default {} */
  settings?: Record<string, string>
  /** What to keep of the trace. @default the last 200 entries */
  trace?: TraceOptions
}

/** The outcome of one seed. */
export interface SeedResult {
  seed: number
  ok: boolean
  /** Why it failed. */
  error?: string
  /** Virtual time reached (the failure time for a failed run). */
  simulatedMs: number
  events: number
  /** Wall-clock time the seed took. */
  wallMs: number
  /** Digest of the whole trace: equal digests mean identical runs. */
  digest: string
  /** The kept trace entries as text (the tail, or everything when recording). */
  trace: string
  stats: WorkloadStats
}

/** Runs `workload` for one seed and reports the outcome; never throws for a failing run. */
export async function runSeed (workload: Workload, seed: number, options: RunSeedOptions = {}): Promise<SeedResult> {
  const sim = createSimulation(options.trace === undefined ? { seed } : { seed, trace: options.trace })
  const started = performance.now()
  let stats: WorkloadStats = {}
  let error: string | undefined
  try {
    stats = (await workload.run({
      sim,
      seed,
      duration: options.duration ?? workload.duration ?? 60_000,
      settings: options.settings ?? {}
    })) ?? {}
  } catch (err) {
    error = sim.failure?.message ?? errorMessage(err)
    if (sim.failure === undefined) sim.log('sim', `FAILED: ${error}`)
  }
  if (error === undefined && sim.failure !== undefined) error = sim.failure.message
  const result: SeedResult = {
    seed,
    ok: error === undefined,
    simulatedMs: sim.failure?.time ?? sim.now(),
    events: sim.stats.events,
    wallMs: performance.now() - started,
    digest: sim.trace.digest(),
    trace: sim.trace.format(),
    stats
  }
  if (error !== undefined) result.error = error
  return result
}
