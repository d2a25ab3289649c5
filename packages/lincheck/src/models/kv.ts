import type { HistoryOp } from '../history/format.js'
import { canonicalJson, type JsonValue } from '../history/json.js'
import type { Model } from './model.js'

/**
 * The state of one key: the canonical JSON text of its value, or `null` when the key is absent.
 * Values are compared by their canonical text, so `{"a":1,"b":2}` equals `{"b":2,"a":1}`.
 */
export type KvState = string | null

/** One KV operation, compact: values already turned into canonical text. */
export type KvInput =
  | { readonly kind: 'get', readonly output: KvState, readonly determinate: boolean }
  | { readonly kind: 'put', readonly value: KvState }
  | { readonly kind: 'del' }
  | { readonly kind: 'cas', readonly expected: KvState, readonly value: KvState, readonly swapped: boolean | undefined }

const ABSENT_KEY = '\u2205'

function valueText (value: JsonValue): KvState {
  return value === null ? null : canonicalJson(value)
}

function stateText (state: KvState): string {
  return state ?? ABSENT_KEY
}

function show (state: KvState): string {
  return state ?? 'absent'
}

/**
 * The model of a linearizable key-value register with compare-and-set, one register per key.
 *
 * | op    | fields                                   | sequential meaning                                   |
 * |-------|------------------------------------------|------------------------------------------------------|
 * | `get` | `output`: the value read, `null` = absent | legal when the register holds `output`               |
 * | `put` | `value`: the value written               | the register now holds `value` (`null` deletes)      |
 * | `del` |                                          | the key is now absent                                |
 * | `cas` | `expected`, `value`, `ok` (swapped?)     | swaps to `value` when the register holds `expected`; |
 * |       |                                          | `ok: true` needs a match, `ok: false` a mismatch     |
 *
 * `null` stands for "absent" everywhere: `cas` with `expected: null` is create-if-absent.
 * An indeterminate `cas` swaps if it happens while the register holds `expected`.
 */
export function createKvModel (): Model<KvState, KvInput> {
  return {
    name: 'kv',
    operations: ['get', 'put', 'cas', 'del'],

    validate (op: HistoryOp, present: (field: string) => boolean): string | undefined {
      if ((op.op === 'put' || op.op === 'cas') && !present('value')) return `a ${op.op} needs a "value" (null deletes the key)`
      if (op.op === 'cas' && !present('expected')) return 'a cas needs an "expected" value (null means "absent")'
      if (op.failed || op.indeterminate) return undefined
      if (op.op === 'get' && !present('output')) return 'a completed get needs an "output" (the value read; null means absent)'
      if (op.op === 'cas' && !present('ok')) return 'a completed cas needs "ok" (whether it swapped)'
      if (op.op !== 'cas' && !op.ok) return `a completed ${op.op} has "ok": false; mark it "failed" (it did not happen) or "indeterminate" (unknown)`
      return undefined
    },

    prepare (op: HistoryOp): KvInput {
      const determinate = !op.indeterminate && op.return !== null
      switch (op.op) {
        case 'get': return { kind: 'get', output: valueText(op.output), determinate }
        case 'put': return { kind: 'put', value: valueText(op.value) }
        case 'del': return { kind: 'del' }
        default: return { kind: 'cas', expected: valueText(op.expected), value: valueText(op.value), swapped: determinate ? op.ok : undefined }
      }
    },

    initialState: () => null,

    step (state: KvState, input: KvInput): KvState | undefined {
      switch (input.kind) {
        case 'get': return !input.determinate || input.output === state ? state : undefined
        case 'put': return input.value
        case 'del': return null
        case 'cas': {
          const matches = state === input.expected
          if (input.swapped === undefined) return matches ? input.value : state
          if (input.swapped !== matches) return undefined
          return matches ? input.value : state
        }
      }
    },

    mayChangeState: (input: KvInput) => input.kind !== 'get',

    inputKey (input: KvInput): string {
      switch (input.kind) {
        case 'get': return `get ${input.determinate ? stateText(input.output) : '?'}`
        case 'put': return `put ${stateText(input.value)}`
        case 'del': return 'del'
        case 'cas': return `cas ${stateText(input.expected)} ${stateText(input.value)} ${String(input.swapped)}`
      }
    },

    stateKey: stateText,

    describeState: show,

    describeOp (op: HistoryOp): string {
      const unknown = op.indeterminate || op.return === null
      switch (op.op) {
        case 'get': return unknown ? `get ${op.key} -> ?` : `get ${op.key} -> ${show(valueText(op.output))}`
        case 'put': return `put ${op.key} ${show(valueText(op.value))}`
        case 'del': return `del ${op.key}`
        default: {
          const result = unknown ? '?' : op.ok ? 'swapped' : 'not swapped'
          return `cas ${op.key} ${show(valueText(op.expected))} -> ${show(valueText(op.value))} (${result})`
        }
      }
    },

    explainRejection (state: KvState, input: KvInput): string {
      switch (input.kind) {
        case 'get': return `read ${show(input.output)}, but the key held ${show(state)}`
        case 'cas': return input.swapped === true
          ? `swapped, but the key held ${show(state)}, not the expected ${show(input.expected)}`
          : `did not swap, but the key held the expected ${show(state)}`
        default: return 'cannot be rejected'
      }
    }
  }
}
