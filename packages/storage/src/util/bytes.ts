import type { FileHandle } from 'node:fs/promises'
import { basename } from 'node:path'
import { CorruptionError, type EntryType, type Logger } from '@synod/interfaces'

/** Little-endian u32; `value` is an unsigned 32-bit integer (typed-array stores keep the low byte). */
export function putU32 (target: Buffer, value: number, offset: number): void {
  target[offset] = value
  target[offset + 1] = value >>> 8
  target[offset + 2] = value >>> 16
  target[offset + 3] = value >>> 24
}

/** Little-endian u64 of a safe integer. */
export function writeU64 (target: Buffer, value: number, offset: number): void {
  putU32(target, value % 0x1_0000_0000, offset)
  putU32(target, Math.floor(value / 0x1_0000_0000), offset + 4)
}

export function readU64 (source: Buffer, offset: number): number {
  return source.readUInt32LE(offset) + source.readUInt32LE(offset + 4) * 0x1_0000_0000
}

/** Reads into `target` from `position` until it is full or the file ends; returns the bytes read. */
export async function readFully (handle: FileHandle, target: Buffer, position: number): Promise<number> {
  let read = 0
  while (read < target.byteLength) {
    const { bytesRead } = await handle.read(target, read, target.byteLength - read, position + read)
    if (bytesRead === 0) break
    read += bytesRead
  }
  return read
}

/** A corrupt file, named with the offset of the damage. */
export function corruptAt (path: string, offset: number, reason: string): CorruptionError {
  return new CorruptionError(`${basename(path)}: ${reason} at offset ${offset}`, { file: path, offset })
}

/** True if every byte of [from, fileSize) is zero (space preallocated and never written). */
export async function allZero (handle: FileHandle, from: number, fileSize: number): Promise<boolean> {
  const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(1, fileSize - from)))
  for (let start = from; start < fileSize; start += chunk.byteLength) {
    const length = await readFully(handle, chunk.subarray(0, Math.min(chunk.byteLength, fileSize - start)), start)
    for (let i = 0; i < length; i++) if (chunk[i] !== 0) return false
  }
  return true
}

/** A segment being recovered, as far as deciding about damage in it goes. */
export interface DamagedSegment {
  path: string
  handle: FileHandle
  /** Only the newest segment may end in a torn write: every older one was synced before the next was created. */
  isLast: boolean
  logger?: Logger | undefined
}

/**
 * Damage at `offset`: a torn tail, cut off here, when it is in the newest segment and no valid
 * batch start follows it (`laterBatchExists` looks from `offset + 1`); otherwise corruption of
 * acknowledged data, thrown as a CorruptionError naming the file and offset. `what` names the
 * file kind in the warning.
 */
export async function cutTornTailOrThrow (
  segment: DamagedSegment, offset: number, reason: string, what: string, laterBatchExists: (from: number) => Promise<boolean>
): Promise<void> {
  if (!segment.isLast || await laterBatchExists(offset + 1)) throw corruptAt(segment.path, offset, reason)
  // A torn tail: the write that produced it never finished its fdatasync, so no caller was told
  // it was durable. Cutting it off loses nothing that was acknowledged.
  segment.logger?.warn({ file: segment.path, offset, reason }, `truncating torn tail of the ${what}`)
  await segment.handle.truncate(offset)
  await segment.handle.datasync()
}

/** On-disk codes of the entry types (the file log and the journal share them). */
const ENTRY_TYPE_CODES: Record<EntryType, number> = { command: 1, noop: 2, config: 3 }
export const ENTRY_TYPES: ReadonlyArray<EntryType | undefined> = [undefined, 'command', 'noop', 'config']

export function entryTypeCode (type: EntryType): number {
  return ENTRY_TYPE_CODES[type]
}

/** Bytes of a segment file header: magic u32, format version u32, a u64 (first index or sequence). */
export const SEGMENT_HEADER_BYTES = 16

export function encodeSegmentHeader (magic: number, version: number, number: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES)
  header.writeUInt32LE(magic, 0)
  header.writeUInt32LE(version, 4)
  writeU64(header, number, 8)
  return header
}

/**
 * Reads and checks a segment's header at start-up. False for a newest segment that was created
 * but never written (the caller deletes it); CorruptionError for a missing header in an older
 * segment or a header that does not match.
 */
export async function checkSegmentHeader (
  handle: FileHandle, path: string, fileSize: number, expected: { magic: number, version: number, number: number, isLast: boolean }
): Promise<boolean> {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES)
  await readFully(handle, header, 0)
  if (fileSize < SEGMENT_HEADER_BYTES || header.every((byte) => byte === 0)) {
    if (expected.isLast) return false
    throw corruptAt(path, 0, 'missing segment header')
  }
  if (header.readUInt32LE(0) !== expected.magic || header.readUInt32LE(4) !== expected.version || readU64(header, 8) !== expected.number) {
    throw corruptAt(path, 0, 'bad segment header')
  }
  return true
}
