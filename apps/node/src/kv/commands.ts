import { Packr } from 'msgpackr'
import { BadFrameError } from '@synod/interfaces'

/**
 * Commands of the replicated key-value store, as proposed to the log. A command may carry a client
 * id and sequence number so a retried write applies once (Raft dissertation §6.3).
 */
export type KvCommand =
  | { op: 'put', key: string, value: Uint8Array, client?: string, seq?: number }
  | { op: 'del', key: string, client?: string, seq?: number }
  | {
    op: 'cas'
    key: string
    value: Uint8Array
    /** Swap only if the current value equals this (null: only if absent). */
    expectedValue?: Uint8Array | null
    /** Swap only if the key's modification revision equals this (0: only if absent). */
    expectedRevision?: number
    client?: string
    seq?: number
  }

/** What applying a command returned. `revision` is the store revision after it (the log index of the last change). */
export interface KvResult {
  ok: boolean
  revision: number
  /** The value before a put/del/cas, when there was one. */
  previous?: Uint8Array | undefined
}

const packr = new Packr({ useRecords: false, moreTypes: false })

export function encodeCommand (command: KvCommand): Uint8Array {
  return packr.pack(command)
}

export function decodeCommand (data: Uint8Array): KvCommand {
  let value: unknown
  try {
    value = packr.unpack(data)
  } catch (err) {
    throw new BadFrameError('undecodable kv command', { cause: err })
  }
  if (!isKvCommand(value)) throw new BadFrameError('malformed kv command')
  return value
}

function isKvCommand (value: unknown): value is KvCommand {
  if (typeof value !== 'object' || value === null) return false
  const command = value as Record<string, unknown>
  if (typeof command.key !== 'string') return false
  if (command.client !== undefined && typeof command.client !== 'string') return false
  if (command.seq !== undefined && typeof command.seq !== 'number') return false
  switch (command.op) {
    case 'put': return command.value instanceof Uint8Array
    case 'del': return true
    case 'cas': return command.value instanceof Uint8Array &&
      (command.expectedValue === undefined || command.expectedValue === null || command.expectedValue instanceof Uint8Array) &&
      (command.expectedRevision === undefined || typeof command.expectedRevision === 'number')
    default: return false
  }
}
