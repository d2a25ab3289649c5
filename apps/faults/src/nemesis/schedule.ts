import { createSeededRandom } from '../random.js'

/** Every fault the nemesis knows. Targets such as "the leader" are resolved when the fault starts. */
export const FAULT_KINDS = [
  'partition-halves',
  'partition-isolate-leader',
  'partition-bridge',
  'partition-majority-ring',
  'partition-one-way',
  'packet-loss',
  'kill-one',
  'kill-leader',
  'kill-all',
  'pause-leader',
  'clock-bump',
  'clock-drift',
  'membership',
  'membership-partitioned'
] as const

export type FaultKind = typeof FAULT_KINDS[number]

/** Faults that touch the network; the others touch processes or clocks. */
export const NETWORK_FAULTS: ReadonlySet<FaultKind> = new Set([
  'partition-halves', 'partition-isolate-leader', 'partition-bridge', 'partition-majority-ring', 'partition-one-way', 'packet-loss'
])

/**
 * Membership changes (a node removed, then added back as a learner and promoted). They need the
 * node's `/v1/members` API; `membership-partitioned` makes the change while random halves are cut
 * apart, so the removal may time out and the re-add must find out what happened.
 */
export const MEMBERSHIP_FAULTS: ReadonlySet<FaultKind> = new Set(['membership', 'membership-partitioned'])

/** Faults that need libfaketime on the clock victim. */
export const CLOCK_FAULTS: ReadonlySet<FaultKind> = new Set(['clock-bump', 'clock-drift'])

/** One scheduled step: start these faults at `atMs`, heal them all `durationMs` later. */
export interface ScheduledFault {
  /** Milliseconds after the workload starts. */
  readonly atMs: number
  readonly durationMs: number
  /** One fault, or two at once (a combination: one network fault with one process or clock fault). */
  readonly kinds: readonly FaultKind[]
  /** A seed for the fault's own random choices (which half, which node), so each step is reproducible. */
  readonly seed: number
}

export interface ScheduleOptions {
  readonly seed: number
  /** Length of the faulty phase in milliseconds. */
  readonly durationMs: number
  /** The kinds to draw from. @default FAULT_KINDS */
  readonly kinds?: readonly FaultKind[] | undefined
  /** Quiet time before the first fault. @default 3000 */
  readonly warmupMs?: number | undefined
  /** Fault length range. @default [4000, 8000] */
  readonly faultMs?: readonly [number, number] | undefined
  /** Healed time between faults, to let the cluster recover and the clients make progress. @default [2000, 4000] */
  readonly gapMs?: readonly [number, number] | undefined
  /** Every how many steps a combination of two faults is scheduled (0: never). @default 4 */
  readonly comboEvery?: number | undefined
  /**
   * Kinds to schedule first (those of `kinds` an earlier run left out), so consecutive short runs
   * (one per engine) cover every kind between them. @default none
   */
  readonly prefer?: readonly FaultKind[] | undefined
}

/** Removes and returns the last kind in `deck` that is one of `wanted`. */
function takeFrom (deck: FaultKind[], wanted: readonly FaultKind[]): FaultKind | undefined {
  for (let i = deck.length - 1; i >= 0; i--) {
    const kind = deck[i] as FaultKind
    if (wanted.includes(kind)) { deck.splice(i, 1); return kind }
  }
  return undefined
}

/**
 * Draws the fault schedule from a seed. Single faults go round the shuffled list of kinds, so every
 * kind appears before any repeats (a short run still covers them all); every `comboEvery`-th step
 * pairs a network fault with a process or clock fault.
 */
export function buildSchedule (options: ScheduleOptions): ScheduledFault[] {
  const random = createSeededRandom(options.seed)
  const kinds = options.kinds ?? FAULT_KINDS
  if (kinds.length === 0) return []
  const [faultMin, faultMax] = options.faultMs ?? [4000, 8000]
  const [gapMin, gapMax] = options.gapMs ?? [2000, 4000]
  const comboEvery = options.comboEvery ?? 4
  const network = kinds.filter((kind) => NETWORK_FAULTS.has(kind))
  const other = kinds.filter((kind) => !NETWORK_FAULTS.has(kind))
  const steps: ScheduledFault[] = []
  const preferred = kinds.filter((kind) => options.prefer?.includes(kind) === true)
  // The deck is dealt from its end: preferred kinds come out first.
  let deck: FaultKind[] = preferred.length === 0 ? [] : [...random.shuffle(kinds.filter((kind) => !preferred.includes(kind))), ...random.shuffle(preferred)]
  let at = options.warmupMs ?? 3000
  for (let step = 1; ; step++) {
    const durationMs = random.between(faultMin, faultMax)
    if (at + durationMs > options.durationMs) break
    let chosen: FaultKind[]
    if (deck.length === 0) deck = random.shuffle(kinds)
    if (comboEvery > 0 && step % comboEvery === 0 && network.length > 0 && other.length > 0) {
      // A combination also takes its kinds from the deck while it still holds some, so combinations
      // do not delay the first appearance of any kind.
      chosen = [takeFrom(deck, network) ?? random.pick(network), takeFrom(deck, other) ?? random.pick(other)]
    } else {
      chosen = [deck.pop() as FaultKind]
    }
    steps.push({ atMs: at, durationMs, kinds: chosen, seed: random.int(2 ** 31) })
    at += durationMs + random.between(gapMin, gapMax)
  }
  return steps
}
