import { Packr, Unpackr } from 'msgpackr'
import { BadFrameError, SynodError } from '@synod/interfaces'

/**
 * Client API frames, MessagePack arrays (plain maps, no records, so any MessagePack client can speak
 * it):
 * - `[0, id, body]` request, id a positive integer unique among the connection's open requests
 * - `[1, id, body]` response
 * - `[2, id, error]` error response, `error = { code, message, ...fields }`
 * - `[3, id]` the client gave up on a request (its AbortSignal fired); the server aborts the handler
 */
export const RpcFrame = { request: 0, response: 1, error: 2, cancel: 3 } as const

/** What an error looks like on the wire: its code, message and any primitive fields (leaderHint...). */
export interface WireError {
  code: string
  message: string
  [field: string]: unknown
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

export function encodeRpc (frame: unknown[]): Buffer {
  return packr.pack(frame)
}

/** Decodes a frame and checks its envelope; throws ERR_BAD_FRAME. */
export function decodeRpc (bytes: Buffer, isBinary: boolean): [number, number, unknown] {
  if (!isBinary) throw new BadFrameError('text frame')
  let value: unknown
  try {
    value = unpackr.unpack(bytes)
  } catch (err) {
    throw new BadFrameError('malformed MessagePack', { cause: err })
  }
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) throw new BadFrameError('not an RPC frame')
  const [type, id, body] = value as [unknown, unknown, unknown]
  if (typeof type !== 'number' || !Object.values(RpcFrame).includes(type as 0)) throw new BadFrameError('unknown RPC frame type')
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new BadFrameError('bad request id')
  return [type, id, body]
}

/** Turns a thrown value into a wire error; non-Synod errors become an opaque ERR_INTERNAL. */
export function toWireError (err: unknown): WireError {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined
  if (err instanceof Error && typeof code === 'string' && code.startsWith('ERR_')) {
    const wire: WireError = { code, message: err.message }
    for (const [key, value] of Object.entries(err)) {
      if (key === 'code' || key === 'stack' || key === 'cause') continue
      if (value === undefined || value === null || ['string', 'number', 'boolean'].includes(typeof value)) wire[key] = value
    }
    return wire
  }
  return { code: 'ERR_INTERNAL', message: 'internal error' }
}

/** Rebuilds a `SynodError` with the wire error's code, message and fields. */
export function fromWireError (value: unknown): SynodError {
  const wire = (typeof value === 'object' && value !== null ? value : {}) as Partial<WireError>
  const code = typeof wire.code === 'string' ? wire.code : 'ERR_INTERNAL'
  const error = new SynodError(typeof wire.message === 'string' ? wire.message : code, code)
  for (const [key, field] of Object.entries(wire)) {
    if (key !== 'code' && key !== 'message') (error as unknown as Record<string, unknown>)[key] = field
  }
  if (typeof wire.name === 'string') error.name = wire.name
  return error
}
