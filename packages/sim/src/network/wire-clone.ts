/**
 * Copies a message the way encoding it on a wire would: plain objects, arrays, maps and sets are
 * copied deeply, and a typed array keeps only the bytes its view covers. `structuredClone` copies
 * a view's whole underlying `ArrayBuffer` instead, so an entry that is a small view into a large
 * shared buffer (an arena, a batch) would cost the whole buffer on every send. Anything else that
 * is not plain data goes through `structuredClone`, which fails loudly on what a wire cannot carry.
 */
export function wireClone<T> (value: T): T {
  return copy(value) as T
}

function copy (value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return structuredClone(value)
  if (value === null || typeof value !== 'object') return value
  if (ArrayBuffer.isView(value)) return copyView(value)
  if (Array.isArray(value)) return value.map(copy)
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key])
    return out
  }
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [copy(k), copy(v)]))
  if (value instanceof Set) return new Set([...value].map(copy))
  return structuredClone(value)
}

function copyView (view: ArrayBufferView): ArrayBufferView {
  if (view instanceof DataView) return new DataView(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength))
  // slice() on a typed array copies just the elements of the view, into a buffer of its own.
  return (view as Uint8Array).slice()
}
