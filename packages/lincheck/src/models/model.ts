import type { HistoryOp } from '../history/format.js'

/**
 * A sequential specification the checker tests a history against: the object as it would behave if
 * every operation took effect atomically, one at a time. Models are pure; the checker calls them
 * many times per operation while it searches, so `step` and `stateKey` must be cheap.
 *
 * `State` must be treated as immutable: `step` returns a new state (or the same one if nothing
 * changed). `Input` is the model's compact form of one operation, built once by `prepare`.
 */
export interface Model<State, Input> {
  /** Short name, as given to the CLI's `--model`. */
  readonly name: string
  /** The `op` names this model accepts. */
  readonly operations: readonly string[]

  /**
   * Checks the model-specific fields of an operation whose generic fields are already valid
   * (`op` is one of `operations`). `present` says whether the record actually had a field, before
   * defaults were filled in, so a model can insist on a field whose default would mislead.
   * Returns what is wrong, in words, or `undefined` when it is fine.
   */
  validate(op: HistoryOp, present: (field: string) => boolean): string | undefined

  /** Converts a valid, not failed operation into the form `step` takes. */
  prepare(op: HistoryOp): Input

  /** The state of a fresh object (a key never written, a lock never taken). */
  initialState(): State

  /**
   * Applies `input` to `state`. Returns the state after it, or `undefined` when the operation could
   * not have produced its recorded result in `state`. For an indeterminate operation (result
   * unknown) it returns the state as if the operation took effect now.
   */
  step(state: State, input: Input): State | undefined

  /**
   * False when the operation can never change the state (a read). The checker drops indeterminate
   * operations of this kind: a read whose answer nobody saw constrains nothing.
   */
  mayChangeState(input: Input): boolean

  /**
   * A string equal for two inputs exactly when they act the same on every state (two deletes of
   * the same key, two acquires by the same client). The search uses only the earliest-called of a
   * set of such timed-out operations first, since which of them took effect makes no difference.
   */
  inputKey(input: Input): string

  /** A string equal for two states exactly when they are equal; used to memoise the search. */
  stateKey(state: State): string

  /** The state in words, for reports: `"absent"`, `"3"`, `"held by client 2 with token 7"`. */
  describeState(state: State): string

  /** The operation in words, for reports: `get x -> 3`, `cas x 1 -> 2 (swapped)`. */
  describeOp(op: HistoryOp): string

  /** Why `step(state, input)` returned `undefined`, in words, for reports. */
  explainRejection(state: State, input: Input): string
}

/** A model of any state and input, as the checker and the CLI hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any>
