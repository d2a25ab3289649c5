import type { HistoryOp, HistoryOpInit } from '../history/format.js'
import { normalizeHistory } from '../history/parse.js'
import { createKvModel } from '../models/kv.js'
import type { Model } from '../models/model.js'
import { searchLinearization, type SearchOp } from './search.js'

/** The verdict on a history, or on one key of it. `unknown`: the time limit ran out first. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown'

/** The verdict on one key. */
export interface KeyResult {
  readonly key: string
  readonly verdict: Verdict
  /** Operations of this key in the history, failed ones included. */
  readonly ops: number
  /** Search steps spent on this key (a machine-independent measure of effort). */
  readonly steps: number
}

/** One step of a partial linearization: an operation (its index in the history) and the state after it. */
export interface LinearizedStep {
  readonly op: number
  readonly stateAfter: string
}

/** An operation the search could not place next, and why. */
export interface RejectedCandidate {
  readonly op: number
  readonly reason: string
}

/**
 * Why one key is not linearizable, for a person to read. All `op` numbers are indices into the
 * history array. The search got as far as `linearized` (the longest partial linearization it found);
 * from `state`, `blocking` had to take effect next at the latest (its return came next) and no
 * operation in `candidates` could be placed in a way that led on.
 */
export interface Violation {
  readonly key: string
  readonly initialState: string
  readonly linearized: readonly LinearizedStep[]
  readonly state: string
  readonly blocking: number
  readonly candidates: readonly RejectedCandidate[]
  /** The operations to look at: the last few linearized, the candidates and `blocking`, by call time. */
  readonly involved: readonly number[]
}

export interface CheckResult {
  readonly verdict: Verdict
  /** The model's name. */
  readonly model: string
  /** One entry per key, in the order the keys were checked (fewest operations first). */
  readonly keys: readonly KeyResult[]
  /** Keys found not linearizable, fewest operations first. */
  readonly failingKeys: readonly string[]
  /** The explanation for the failing key with the fewest operations, if any key failed. */
  readonly violation: Violation | undefined
  /** The history that was checked, normalized (defaults filled in). Reports index into it. */
  readonly history: readonly HistoryOp[]
}

export interface CheckOptions<State, Input> {
  /**
   * The sequential specification to check against.
   * @default createKvModel()
   */
  readonly model?: Model<State, Input> | undefined
  /**
   * Give up after this many milliseconds; the verdict is then `unknown` unless a key was already
   * found not linearizable. Checking is NP-complete in general, so a limit keeps a pathological
   * history from hanging a test run.
   * @default Infinity
   */
  readonly timeoutMs?: number | undefined
  /**
   * Keep checking the other keys after one fails, so `failingKeys` is complete and the violation
   * shown is the one with the fewest operations.
   * @default true
   */
  readonly checkAllKeys?: boolean | undefined
  /**
   * How many linearized operations before the dead end `Violation.involved` includes.
   * @default 5
   */
  readonly contextOps?: number | undefined
}

/** Step budget per operation of the call-order search before switching to the other order. */
const QUICK_STEPS_PER_OP = 50

export interface CheckComponents {
  /**
   * Milliseconds on a monotonic clock, read only to enforce `timeoutMs`.
   * @default performance.now
   */
  readonly now?: (() => number) | undefined
}

/**
 * Checks whether `history` is linearizable with respect to `model`, one key at a time (a history is
 * linearizable exactly when each key's sub-history is: Herlihy & Wing 1990, locality, §3.3).
 *
 * Failed operations are dropped (they certainly did not happen). Operations with an unknown outcome
 * may take effect at any time after their call, or never. Throws `MalformedHistoryError` (code
 * `ERR_INVALID_ARGUMENT`) when an operation is malformed for the model.
 */
export function checkHistory<State = unknown, Input = unknown> (
  history: ReadonlyArray<HistoryOp | HistoryOpInit>,
  options: CheckOptions<State, Input> = {},
  components: CheckComponents = {}
): CheckResult {
  const model = (options.model ?? createKvModel()) as Model<State, Input>
  const now = components.now ?? (() => performance.now())
  const deadline = now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY)
  const shouldStop = (): boolean => now() >= deadline
  const ops = normalizeHistory(history, model)

  const partitions = new Map<string, number[]>()
  ops.forEach((op, index) => {
    let members = partitions.get(op.key)
    if (members === undefined) partitions.set(op.key, members = [])
    members.push(index)
  })
  const ordered = [...partitions].sort(([keyA, a], [keyB, b]) => a.length - b.length || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0))

  const keys: KeyResult[] = []
  const failingKeys: string[] = []
  let violation: Violation | undefined
  for (const [key, members] of ordered) {
    if (shouldStop() || (failingKeys.length > 0 && options.checkAllKeys === false)) {
      keys.push({ key, verdict: 'unknown', ops: members.length, steps: 0 })
      continue
    }
    const kept = members.filter((index) => {
      const op = ops[index]!
      return !op.failed && !(op.indeterminate && !model.mayChangeState(model.prepare(op)))
    })
    const searchOps: Array<SearchOp<Input>> = kept.map((index) => {
      const op = ops[index]!
      return { input: model.prepare(op), call: op.call, return: op.indeterminate ? null : op.return }
    })
    // Two searches, both exact: trying timed-out operations in call order finds a linearization
    // fastest when there is one, so it gets a budget proportional to the key's size; if that runs
    // out, trying them only when nothing else fits proves the absence of one far faster.
    const hasUnknown = searchOps.some((op) => op.return === null)
    const quick = searchLinearization(searchOps, model, { trackDeadEnd: true, shouldStop, order: 'by-call', maxSteps: hasUnknown ? QUICK_STEPS_PER_OP * searchOps.length : undefined })
    const result = quick.kind === 'gave-up' && !shouldStop()
      ? searchLinearization(searchOps, model, { trackDeadEnd: true, shouldStop, order: 'completed-first' })
      : quick
    const verdict: Verdict = result.kind === 'gave-up' ? 'unknown' : result.kind
    keys.push({ key, verdict, ops: members.length, steps: quick === result ? result.steps : quick.steps + result.steps })
    if (verdict !== 'not-linearizable') continue
    failingKeys.push(key)
    if (violation === undefined && result.kind === 'not-linearizable' && result.deadEnd !== undefined) {
      violation = describeViolation(key, model, ops, kept, searchOps, result.deadEnd, options.contextOps ?? 5)
    }
  }

  const verdict: Verdict = failingKeys.length > 0
    ? 'not-linearizable'
    : keys.some((result) => result.verdict === 'unknown') ? 'unknown' : 'linearizable'
  return { verdict, model: model.name, keys, failingKeys, violation, history: ops }
}

function describeViolation<State, Input> (
  key: string,
  model: Model<State, Input>,
  ops: readonly HistoryOp[],
  kept: readonly number[],
  searchOps: ReadonlyArray<SearchOp<Input>>,
  deadEnd: { linearized: ReadonlyArray<{ op: number, stateAfter: State }>, state: State, blocking: number, candidates: readonly number[] },
  contextOps: number
): Violation {
  const historyIndex = (local: number): number => kept[local]!
  const candidates = deadEnd.candidates.map((local) => {
    const input = searchOps[local]!.input
    const next = model.step(deadEnd.state, input)
    const reason = next === undefined
      ? model.explainRejection(deadEnd.state, input)
      : searchOps[local]!.return === null && model.stateKey(next) === model.stateKey(deadEnd.state)
        ? 'outcome unknown; taking effect here would change nothing'
        : 'fits here, but every way of going on from there fails'
    return { op: historyIndex(local), reason }
  })
  const linearized = deadEnd.linearized.map(({ op, stateAfter }) => ({ op: historyIndex(op), stateAfter: model.describeState(stateAfter) }))
  const involved = new Set<number>([
    ...linearized.slice(Math.max(0, linearized.length - contextOps)).map(({ op }) => op),
    ...candidates.map(({ op }) => op),
    historyIndex(deadEnd.blocking)
  ])
  return {
    key,
    initialState: model.describeState(model.initialState()),
    linearized,
    state: model.describeState(deadEnd.state),
    blocking: historyIndex(deadEnd.blocking),
    candidates,
    involved: [...involved].sort((a, b) => ops[a]!.call - ops[b]!.call || a - b)
  }
}
