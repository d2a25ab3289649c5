import type { JsonValue } from './json.js'

/**
 * One operation of a history, exactly as it appears in the JSON history format that Synod reads
 * and writes (an array of these objects). Times are integer nanoseconds from the start of the test.
 *
 * - `output` of a `get` is the value read; `null` means the key was absent.
 * - `ok` of a `cas` says whether it swapped. Other operations that completed have `ok: true`.
 * - `failed: true`: the operation certainly did not take effect (the server refused it).
 * - `return: null` or `indeterminate: true`: the client does not know whether it took effect (it
 *   timed out). It may take effect at any time after `call`, or never.
 */
export interface HistoryOp {
  /** The client (process, session) that issued the operation. */
  client: number
  /** The operation name: `get`, `put`, `cas`, `del` for the KV model; see each model for its own. */
  op: string
  /** The key (register, lock name). The checker checks each key on its own. */
  key: string
  /** The value written (`put`, `cas`), or the model's argument; `null` when there is none. */
  value: JsonValue
  /** The value a `cas` compares against; `null` means "the key is absent". */
  expected: JsonValue
  /** When the client sent the request, in ns. */
  call: number
  /** When the client got the answer, in ns; `null` when it never did. */
  return: number | null
  /** Whether the operation succeeded (a `cas` that swapped, a lock that was granted). */
  ok: boolean
  /** What the operation returned (the value a `get` read, a fencing token); `null` when nothing. */
  output: JsonValue
  /** The operation certainly did not take effect. */
  failed: boolean
  /** The outcome is unknown: the operation may take effect at any time after `call`, or never. */
  indeterminate: boolean
}

/**
 * A history operation as a test writes it by hand: only `client`, `op`, `key` and `call` are required.
 * Missing fields take their defaults (`null`, `ok: true`, `failed: false`); a missing `return` means
 * the outcome is unknown.
 */
export interface HistoryOpInit {
  client: number
  op: string
  key: string
  call: number
  return?: number | null | undefined
  value?: JsonValue | undefined
  expected?: JsonValue | undefined
  ok?: boolean | undefined
  output?: JsonValue | undefined
  failed?: boolean | undefined
  indeterminate?: boolean | undefined
}

/** How an operation ended, derived from `failed`, `indeterminate` and `return`. */
export type OpOutcome = 'ok' | 'failed' | 'indeterminate'

/** The outcome of `op`: failed wins over indeterminate; `return: null` means indeterminate. */
export function outcomeOf (op: Pick<HistoryOp, 'failed' | 'indeterminate' | 'return'>): OpOutcome {
  if (op.failed) return 'failed'
  if (op.indeterminate || op.return === null) return 'indeterminate'
  return 'ok'
}

const FIELD_ORDER = ['client', 'op', 'key', 'value', 'expected', 'call', 'return', 'ok', 'output', 'failed', 'indeterminate'] as const

/**
 * Writes `history` in the JSON history format, one operation per line, every field present, in
 * the order the format lists them. The result parses back with `parseHistory` to the same operations.
 */
export function stringifyHistory (history: readonly HistoryOp[]): string {
  if (history.length === 0) return '[]\n'
  const lines = history.map((op) => {
    const fields = FIELD_ORDER.map((field) => `${JSON.stringify(field)}:${JSON.stringify(op[field])}`)
    return `  {${fields.join(',')}}`
  })
  return `[\n${lines.join(',\n')}\n]\n`
}
