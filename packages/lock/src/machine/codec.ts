import { BadFrameError } from '@synod/interfaces'
import { Packr } from 'msgpackr'
import type { LockCommand, LockMode } from './commands.js'

// msgpackr: a fast, well-kept MessagePack codec. Records are off so the bytes are plain
// MessagePack that any other implementation can read.
const packr = new Packr({ useRecords: false, mapsAsObjects: true })

/** Opcodes: a command is a MessagePack array `[opcode, ...fields]`, a few bytes for a keepalive. */
const Op = { Open: 1, Keepalive: 2, Close: 3, Acquire: 4, Release: 5, Expire: 6, LiftDelay: 7 } as const

const modes: readonly LockMode[] = ['exclusive', 'shared', 'semaphore']

/** Encodes a lock command for `ReplicatedLog.propose`. */
export function encodeCommand (command: LockCommand): Uint8Array {
  switch (command.type) {
    case 'open-session': return packr.pack([Op.Open, command.ttlMs])
    case 'keepalive': return packr.pack([Op.Keepalive, command.session])
    case 'close-session': return packr.pack([Op.Close, command.session])
    case 'acquire': return packr.pack([Op.Acquire, command.session, command.request, command.name, modes.indexOf(command.mode),
      command.permits, command.limit, command.wait, command.lockDelayMs])
    case 'release': return packr.pack([Op.Release, command.session, command.request, command.name])
    case 'expire-session': return packr.pack([Op.Expire, command.session, command.renewedIndex])
    case 'lift-delay': return packr.pack([Op.LiftDelay, command.name, command.delayIndex])
  }
}

function int (value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new BadFrameError('lock command: expected an integer')
  return value
}

function str (value: unknown): string {
  if (typeof value !== 'string') throw new BadFrameError('lock command: expected a string')
  return value
}

/** Decodes a command; throws ERR_BAD_FRAME on anything that is not a well-formed lock command. */
export function decodeCommand (data: Uint8Array): LockCommand {
  let fields: unknown
  try {
    fields = packr.unpack(data)
  } catch (err) {
    throw new BadFrameError('lock command: not MessagePack', { cause: err })
  }
  if (!Array.isArray(fields)) throw new BadFrameError('lock command: expected an array')
  const f = fields as unknown[]
  switch (f[0]) {
    case Op.Open: return { type: 'open-session', ttlMs: int(f[1]) }
    case Op.Keepalive: return { type: 'keepalive', session: int(f[1]) }
    case Op.Close: return { type: 'close-session', session: int(f[1]) }
    case Op.Acquire: {
      const mode = modes[int(f[4])]
      if (mode === undefined || typeof f[7] !== 'boolean') throw new BadFrameError('lock command: bad acquire')
      return {
        type: 'acquire', session: int(f[1]), request: int(f[2]), name: str(f[3]), mode,
        permits: int(f[5]), limit: int(f[6]), wait: f[7], lockDelayMs: int(f[8])
      }
    }
    case Op.Release: return { type: 'release', session: int(f[1]), request: int(f[2]), name: str(f[3]) }
    case Op.Expire: return { type: 'expire-session', session: int(f[1]), renewedIndex: int(f[2]) }
    case Op.LiftDelay: return { type: 'lift-delay', name: str(f[1]), delayIndex: int(f[2]) }
    default: throw new BadFrameError('lock command: unknown opcode')
  }
}

/** Encodes any plain value (the snapshot) as MessagePack. */
export function encodeValue (value: unknown): Uint8Array {
  return packr.pack(value)
}

export function decodeValue (data: Uint8Array): unknown {
  try {
    return packr.unpack(data)
  } catch (err) {
    throw new BadFrameError('lock snapshot: not MessagePack', { cause: err })
  }
}
