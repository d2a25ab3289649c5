/** A value that survives a round trip through JSON. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** True when `value` is made only of JSON types (no undefined, functions, NaN, cycles are not checked). */
export function isJsonValue (value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false
  if (value === null) return true
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1))
      return Object.values(value).every((item) => isJsonValue(item, depth + 1))
    default:
      return false
  }
}

/**
 * JSON text of `value` with object keys sorted, so two equal values always give the same string.
 * The models compare values by this text: `{"a":1,"b":2}` equals `{"b":2,"a":1}`.
 */
export function canonicalJson (value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`).join(',')}}`
}
