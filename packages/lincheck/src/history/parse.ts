import type { AnyModel } from '../models/model.js'
import { MalformedHistoryError } from './errors.js'
import type { HistoryOp } from './format.js'
import { isJsonValue, type JsonValue } from './json.js'

const KNOWN_FIELDS = new Set(['client', 'op', 'key', 'value', 'expected', 'call', 'return', 'ok', 'output', 'failed', 'indeterminate'])

/**
 * Reads a history from JSON text. Throws `MalformedHistoryError` (code `ERR_INVALID_ARGUMENT`) for
 * text that is not JSON, or for the first operation that is malformed; the message names the
 * operation by its index in the array and says what is wrong with it.
 */
export function parseHistory (text: string, model?: AnyModel): HistoryOp[] {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (err) {
    throw new MalformedHistoryError(`history is not valid JSON: ${(err as Error).message}`)
  }
  return normalizeHistory(document, model)
}

/**
 * Checks an already parsed history and fills in defaults (see `HistoryOpInit`). Accepts what
 * `JSON.parse` returns or a hand-written array. Throws `MalformedHistoryError` like `parseHistory`.
 * With `model`, also checks the operation names and fields that model needs.
 */
export function normalizeHistory (document: unknown, model?: AnyModel): HistoryOp[] {
  if (!Array.isArray(document)) {
    throw new MalformedHistoryError(`history must be a JSON array of operations, got ${describe(document)}`)
  }
  return document.map((record: unknown, index) => normalizeOp(record, index, model))
}

function normalizeOp (record: unknown, index: number, model: AnyModel | undefined): HistoryOp {
  const bad = (field: string | undefined, problem: string): MalformedHistoryError =>
    new MalformedHistoryError(`op ${index}: ${problem}`, { index, field })
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw bad(undefined, `must be an object, got ${describe(record)}`)
  }
  const fields = record as Record<string, unknown>
  for (const name of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(name)) throw bad(name, `unknown field "${name}"`)
  }

  const client = fields.client
  if (!Number.isSafeInteger(client)) throw bad('client', `"client" must be an integer, got ${describe(client)}`)
  const name = fields.op
  if (typeof name !== 'string') throw bad('op', `"op" must be a string, got ${describe(name)}`)
  const key = fields.key
  if (typeof key !== 'string') throw bad('key', `"key" must be a string, got ${describe(key)}`)
  const call = fields.call
  if (!isTime(call)) throw bad('call', `"call" must be a non-negative integer of nanoseconds, got ${describe(call)}`)
  const ret = fields.return ?? null
  if (ret !== null && !isTime(ret)) throw bad('return', `"return" must be a non-negative integer of nanoseconds or null, got ${describe(ret)}`)
  if (ret !== null && ret < call) throw bad('return', `"return" (${ret}) is before "call" (${call})`)

  const failed = optionalBoolean(fields.failed, 'failed', bad) ?? false
  const indeterminate = optionalBoolean(fields.indeterminate, 'indeterminate', bad) ?? false
  if (failed && indeterminate) throw bad('failed', '"failed" and "indeterminate" are both true; an operation cannot have certainly failed and have an unknown outcome')
  const ok = optionalBoolean(fields.ok, 'ok', bad)
  const value = optionalJson(fields.value, 'value', bad)
  const expected = optionalJson(fields.expected, 'expected', bad)
  const output = optionalJson(fields.output, 'output', bad)

  const op: HistoryOp = {
    client: client as number,
    op: name,
    key,
    value: value ?? null,
    expected: expected ?? null,
    call,
    return: ret,
    ok: ok ?? true,
    output: output ?? null,
    failed,
    indeterminate: indeterminate || (ret === null && !failed)
  }
  if (model !== undefined) {
    if (!model.operations.includes(name)) {
      throw bad('op', `"op" is "${name}", which the ${model.name} model does not know (expected one of ${model.operations.join(', ')})`)
    }
    const problem = model.validate(op, (field) => fields[field] !== undefined)
    if (problem !== undefined) throw bad(undefined, problem)
  }
  return op
}

function isTime (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function optionalBoolean (value: unknown, field: string, bad: (field: string, problem: string) => Error): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw bad(field, `"${field}" must be true or false, got ${describe(value)}`)
  return value
}

function optionalJson (value: unknown, field: string, bad: (field: string, problem: string) => Error): JsonValue | undefined {
  if (value === undefined) return undefined
  if (!isJsonValue(value)) throw bad(field, `"${field}" must be a JSON value, got ${describe(value)}`)
  return value
}

function describe (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  const text = JSON.stringify(value) ?? typeof value
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
