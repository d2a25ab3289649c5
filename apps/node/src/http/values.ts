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
