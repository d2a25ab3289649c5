import type { KvRecord } from '../kv/state-machine.js'

const decoder = new TextDecoder('utf-8', { fatal: true })

/** A value as JSON: UTF-8 text when it is valid UTF-8, base64 otherwise. */
export function encodeValue (value: Uint8Array): { value: string, encoding: 'utf8' | 'base64' } {
  try {
    return { value: decoder.decode(value), encoding: 'utf8' }
  } catch {
    return { value: Buffer.from(value).toString('base64'), encoding: 'base64' }
  }
}

export function recordToJson (key: string, record: KvRecord): Record<string, unknown> {
  return { key, ...encodeValue(record.value), createRevision: record.createRevision, modRevision: record.modRevision, version: record.version }
}

/** Reads `{ value, encoding? }` fields from a JSON body into bytes. */
export function decodeValue (value: unknown, encoding: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined
  if (encoding === 'base64') return new Uint8Array(Buffer.from(value, 'base64'))
  return new TextEncoder().encode(value)
}

/** The inverse of `recordToJson`, for a range part read from another node; throws on a malformed item. */
export function jsonToRecord (item: unknown): [string, KvRecord] {
  const json = item as Record<string, unknown> | null
  const value = decodeValue(json?.value, json?.encoding)
  if (json === null || typeof json.key !== 'string' || value === undefined || typeof json.createRevision !== 'number' ||
    typeof json.modRevision !== 'number' || typeof json.version !== 'number') {
    throw new TypeError('malformed range item from another node')
  }
  return [json.key, { value, createRevision: json.createRevision, modRevision: json.modRevision, version: json.version }]
}
