import { FAULT_KINDS, type FaultKind } from '../nemesis/schedule.js'

/** The size and length of a run. */
export interface Profile {
  readonly name: string
  readonly nodes: number
  /** Length of the faulty phase. */
  readonly faultPhaseMs: number
  readonly faultMs: readonly [number, number]
  readonly gapMs: readonly [number, number]
  /** Healed time at the end, with the workload still running, before the final checks. */
  readonly recoveryMs: number
  readonly registerClients: number
  readonly keys: number
  readonly setClients: number
  readonly thinkMs: number
  /** Lock workload clients competing for one lock (0: no lock workload). */
  readonly lockWorkers: number
  /** Their session TTL. */
  readonly lockTtlMs: number
  /** One critical section in this many pauses its client past the TTL before writing. */
  readonly lockPauseOneIn: number
  readonly kinds: readonly FaultKind[]
  /** Give the linearizability checker this long before the verdict is "unknown". */
  readonly checkTimeoutMs: number
}

/**
 * `short`: about a minute and a half per engine, three minutes for both, for CI; each engine's run
 * schedules first the kinds the other left out, so every kind runs at least once between them.
 * `long`: thirty minutes of faults, every kind many times over, with combinations.
 */
export const PROFILES: Record<string, Profile> = {
  short: {
    name: 'short',
    nodes: 5,
    faultPhaseMs: 55_000,
    faultMs: [3000, 5000],
    gapMs: [1500, 3000],
    recoveryMs: 5000,
    registerClients: 5,
    keys: 6,
    setClients: 1,
    thinkMs: 20,
    lockWorkers: 3,
    lockTtlMs: 3000,
    lockPauseOneIn: 12,
    kinds: FAULT_KINDS,
    checkTimeoutMs: 60_000
  },
  long: {
    name: 'long',
    nodes: 5,
    faultPhaseMs: 30 * 60_000,
    faultMs: [4000, 12_000],
    gapMs: [2000, 6000],
    recoveryMs: 10_000,
    registerClients: 6,
    keys: 12,
    setClients: 2,
    thinkMs: 20,
    lockWorkers: 3,
    lockTtlMs: 3000,
    lockPauseOneIn: 12,
    kinds: FAULT_KINDS,
    checkTimeoutMs: 300_000
  }
}
