import { InvalidArgumentError, isSynodError, type Clock } from '@synod/interfaces'
import { stringifyHistory, type HistoryOp } from './format.js'
import type { JsonValue } from './json.js'

/** What a client is about to do: the operation and its arguments. */
export interface Invocation {
  readonly client: number
  readonly op: string
  readonly key: string
  readonly value?: JsonValue | undefined
  readonly expected?: JsonValue | undefined
}

/** What a completed operation returned. */
export interface Completion {
  /** Whether it succeeded (a cas that swapped, a lock granted). @default true */
  readonly ok?: boolean | undefined
  /** What it returned (the value read, a fencing token). @default null */
  readonly output?: JsonValue | undefined
}

/** An operation in flight, returned by `invoke`. End it exactly once. */
export interface PendingOp {
  /** Its index in the history. */
  readonly index: number
  /** It completed with this result. */
  complete(completion?: Completion): void
  /** It certainly did not take effect (the server refused it before doing anything). */
  fail(): void
  /** The client does not know whether it took effect (timeout, connection lost). */
  timeout(): void
}

/**
 * Collects a history while a test's clients run. Each client calls `invoke` just before it sends a
 * request and ends the returned `PendingOp` when it learns the outcome. Operations never ended are
 * written as indeterminate (`return: null`): the test stopped before they finished.
 */
export interface HistoryRecorder {
  invoke(invocation: Invocation): PendingOp
  /**
   * Invokes, awaits `run`, and ends the operation from how `run` settles: resolved is `complete`
   * (with `toCompletion` of its value); rejected is `fail` or `timeout` per `classifyError`. The
   * error is rethrown, the value returned.
   */
  record<T>(invocation: Invocation, run: () => Promise<T>, toCompletion?: (value: T) => Completion): Promise<T>
  /** The operations so far, in the order they were invoked. */
  history(): HistoryOp[]
  /** The history as JSON text in the history format. */
  toJSON(): string
}

export interface HistoryRecorderOptions {
  /**
   * Decides what a rejected `record` call means. The default treats Synod errors that say the
   * request never took effect (`ERR_NOT_LEADER`, `ERR_PROPOSAL_DROPPED`, `ERR_OVERLOADED`,
   * `ERR_UNAUTHORIZED`, `ERR_INVALID_ARGUMENT`, `ERR_NOT_STARTED`, `ERR_NOT_HELD`) as `failed`, and
   * every other error, timeouts and aborts included, as `indeterminate`: when in doubt, unknown.
   * Pass your own when your service can reject a request after it has already taken effect.
   * @default defaultClassifyError
   */
  readonly classifyError?: ((error: unknown) => 'failed' | 'indeterminate') | undefined
}

export interface HistoryRecorderComponents {
  /**
   * Reads the time in nanoseconds. Only differences matter: the recorder stores times relative to
   * its first reading. Use `nanosFromClock(clock)` to record on a Synod `Clock` (e.g. simulated time).
   * @default a reading of process.hrtime.bigint()
   */
  readonly nowNs?: (() => number) | undefined
}

const CERTAINLY_NOT_APPLIED = new Set([
  'ERR_NOT_LEADER', 'ERR_PROPOSAL_DROPPED', 'ERR_OVERLOADED', 'ERR_UNAUTHORIZED', 'ERR_INVALID_ARGUMENT',
  'ERR_NOT_STARTED', 'ERR_NOT_HELD'
])

/** The default `classifyError`; see `HistoryRecorderOptions.classifyError`. */
export function defaultClassifyError (error: unknown): 'failed' | 'indeterminate' {
  if (!isSynodError(error)) return 'indeterminate'
  // Timeouts and aborts stay indeterminate whatever their flag says: a client giving up proves
  // nothing about what the server did, and a wrong "failed" would raise a false alarm.
  return CERTAINLY_NOT_APPLIED.has(error.code) ? 'failed' : 'indeterminate'
}

/** A nanosecond reader over a Synod `Clock` (milliseconds), rounded to whole nanoseconds. */
export function nanosFromClock (clock: Pick<Clock, 'now'>): () => number {
  return () => Math.round(clock.now() * 1_000_000)
}

function defaultNowNs (): () => number {
  return () => Number(process.hrtime.bigint())
}

function defaultCompletion (value: unknown): Completion {
  if (typeof value === 'boolean') return { ok: value }
  return { output: value === undefined ? null : value as JsonValue }
}

/**
 * Creates a recorder. Times are relative to the first clock reading, in nanoseconds.
 *
 * With `record`, the completion defaults to: a boolean result becomes `ok` (a cas), anything else
 * becomes `output` (a get's value, a token).
 */
export function createHistoryRecorder (options: HistoryRecorderOptions = {}, components: HistoryRecorderComponents = {}): HistoryRecorder {
  const readNs = components.nowNs ?? defaultNowNs()
  const classify = options.classifyError ?? defaultClassifyError
  const origin = readNs()
  const ops: HistoryOp[] = []
  const now = (): number => Math.max(0, readNs() - origin)

  const invoke = (invocation: Invocation): PendingOp => {
    const index = ops.length
    const op: HistoryOp = {
      client: invocation.client,
      op: invocation.op,
      key: invocation.key,
      value: invocation.value ?? null,
      expected: invocation.expected ?? null,
      call: now(),
      return: null,
      ok: true,
      output: null,
      failed: false,
      indeterminate: false
    }
    ops.push(op)
    let ended = false
    const end = (): void => {
      if (ended) throw new InvalidArgumentError(`operation ${index} (${op.op} ${op.key} by client ${op.client}) was already ended`, { field: 'index' })
      ended = true
    }
    return {
      index,
      complete (completion: Completion = {}) {
        end()
        op.return = Math.max(op.call, now())
        op.ok = completion.ok ?? true
        op.output = completion.output ?? null
      },
      fail () {
        end()
        op.return = Math.max(op.call, now())
        op.failed = true
        op.ok = false
      },
      timeout () {
        end()
        op.indeterminate = true
      }
    }
  }

  const history = (): HistoryOp[] => ops.map((op) => ({ ...op, indeterminate: op.indeterminate || (op.return === null && !op.failed) }))

  return {
    invoke,
    async record<T>(invocation: Invocation, run: () => Promise<T>, toCompletion: (value: T) => Completion = defaultCompletion): Promise<T> {
      const pending = invoke(invocation)
      let value: T
      try {
        value = await run()
      } catch (err) {
        if (classify(err) === 'failed') pending.fail()
        else pending.timeout()
        throw err
      }
      pending.complete(toCompletion(value))
      return value
    },
    history,
    toJSON: () => stringifyHistory(history())
  }
}
