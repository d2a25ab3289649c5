import type { LogEntry } from '@synod/interfaces'
import { crc32cOfRange } from '../util/checksum.js'
import { encodeSegmentHeader as encodeSegmentHeaderOf, entryTypeCode, ENTRY_TYPES, putU32, readU64, SEGMENT_HEADER_BYTES, writeU64 } from '../util/bytes.js'

export { ENTRY_TYPES, entryTypeCode, readU64, writeU64 }

/*
 * The shared journal's on-disk format (little-endian).
 *
 * A journal is a directory of segment files `journal-<seq>.log`, <seq> a 20-digit sequence number
 * that grows by one per segment. Each segment starts with a 16-byte header: magic 'SYNJ', format
 * version u32, seq u64. Records follow back to back, each framed as
 *
 *   0  u32  crc32c of bytes 4 .. end of payload (length, kind and payload)
 *   4  u32  payload length
 *   8  u8   kind: low 7 bits the record kind, high bit set on the first record of a write batch
 *   9  ...  payload, which always starts with the group id (u32)
 *
 * Payloads after the group id:
 *   ENTRIES     count u32, first index u64, then per entry: term u64, type u8, data length u32, data
 *   TRUNCATE    from index u64                 (entries >= from are gone)
 *   COMPACT     up-to index u64, term u64      (entries <= up-to are gone; up-to answers term)
 *   HARD_STATE  JSON (UTF-8) of the group's hard state
 *   REMOVE      nothing                        (the group and everything before this record are dead)
 *
 * The batch-start bit tells recovery a torn tail from corruption: batches are written one at a time
 * and each is fdatasynced before the next is written, so a valid batch start after a damaged record
 * proves the damaged record had been acknowledged.
 */

export const FRAME_HEADER_BYTES = 9
export const BATCH_START_FLAG = 0x80

export const RecordKind = {
  entries: 1,
  truncate: 2,
  compact: 3,
  hardState: 4,
  remove: 5
} as const
export type RecordKindCode = typeof RecordKind[keyof typeof RecordKind]

export const SEGMENT_MAGIC = 0x4a4e5953 // 'SYNJ'
export const SEGMENT_VERSION = 1
export { SEGMENT_HEADER_BYTES }

/** Bytes of an ENTRIES payload before its first entry: group, count, first index. */
export const ENTRIES_FIXED_BYTES = 16
/** Bytes before each entry's data inside an ENTRIES record: term, type, data length. */
export const ENTRY_HEADER_BYTES = 13

export function segmentFileName (seq: number): string {
  return `journal-${String(seq).padStart(20, '0')}.log`
}

export function parseSegmentFileName (name: string): number | undefined {
  const match = /^journal-(\d{20})\.log$/.exec(name)
  return match === null ? undefined : Number(match[1])
}

export function encodeSegmentHeader (seq: number): Buffer {
  return encodeSegmentHeaderOf(SEGMENT_MAGIC, SEGMENT_VERSION, seq)
}

/** Size of the ENTRIES record holding `entries`. */
export function entriesRecordBytes (entries: readonly LogEntry[]): number {
  let bytes = FRAME_HEADER_BYTES + ENTRIES_FIXED_BYTES
  for (const entry of entries) bytes += ENTRY_HEADER_BYTES + entry.data.byteLength
  return bytes
}

/**
 * Writes an ENTRIES record at `offset`; fills `dataOffsets[i]` with the position (relative to
 * `target`) of entry i's data, and returns the offset after the record.
 */
export function encodeEntriesRecord (group: number, entries: readonly LogEntry[], batchStart: boolean, target: Buffer, offset: number, dataOffsets: number[]): number {
  const payload = offset + FRAME_HEADER_BYTES
  putU32(target, group, payload)
  putU32(target, entries.length, payload + 4)
  writeU64(target, (entries[0] as LogEntry).index, payload + 8)
  let at = payload + ENTRIES_FIXED_BYTES
  for (const entry of entries) {
    writeU64(target, entry.term, at)
    target[at + 8] = entryTypeCode(entry.type)
    putU32(target, entry.data.byteLength, at + 9)
    at += ENTRY_HEADER_BYTES
    dataOffsets.push(at)
    target.set(entry.data, at)
    at += entry.data.byteLength
  }
  return finishFrame(target, offset, RecordKind.entries, batchStart, at)
}

export function truncateRecordBytes (): number { return FRAME_HEADER_BYTES + 12 }
export function compactRecordBytes (): number { return FRAME_HEADER_BYTES + 20 }
export function removeRecordBytes (): number { return FRAME_HEADER_BYTES + 4 }
export function hardStateRecordBytes (json: Buffer): number { return FRAME_HEADER_BYTES + 4 + json.byteLength }

export function encodeTruncateRecord (group: number, fromIndex: number, batchStart: boolean, target: Buffer, offset: number): number {
  const payload = offset + FRAME_HEADER_BYTES
  putU32(target, group, payload)
  writeU64(target, fromIndex, payload + 4)
  return finishFrame(target, offset, RecordKind.truncate, batchStart, payload + 12)
}

export function encodeCompactRecord (group: number, upToIndex: number, term: number, batchStart: boolean, target: Buffer, offset: number): number {
  const payload = offset + FRAME_HEADER_BYTES
  putU32(target, group, payload)
  writeU64(target, upToIndex, payload + 4)
  writeU64(target, term, payload + 12)
  return finishFrame(target, offset, RecordKind.compact, batchStart, payload + 20)
}

export function encodeHardStateRecord (group: number, json: Buffer, batchStart: boolean, target: Buffer, offset: number): number {
  const payload = offset + FRAME_HEADER_BYTES
  putU32(target, group, payload)
  target.set(json, payload + 4)
  return finishFrame(target, offset, RecordKind.hardState, batchStart, payload + 4 + json.byteLength)
}

export function encodeRemoveRecord (group: number, batchStart: boolean, target: Buffer, offset: number): number {
  const payload = offset + FRAME_HEADER_BYTES
  putU32(target, group, payload)
  return finishFrame(target, offset, RecordKind.remove, batchStart, payload + 4)
}

function finishFrame (target: Buffer, offset: number, kind: number, batchStart: boolean, end: number): number {
  putU32(target, end - offset - FRAME_HEADER_BYTES, offset + 4)
  target[offset + 8] = kind | (batchStart ? BATCH_START_FLAG : 0)
  putU32(target, crc32cOfRange(target, offset + 4, end), offset)
  return end
}

/** One decoded entry of an ENTRIES record: where its data lies, not the data itself. */
export interface EntryLocation {
  term: number
  typeCode: number
  /** Offset of the data relative to the decoded buffer. */
  dataOffset: number
  dataLength: number
}

/** A record as recovery sees it (entry data stays in the file). */
export type DecodedRecord =
  | { kind: typeof RecordKind.entries, group: number, firstIndex: number, entries: EntryLocation[] }
  | { kind: typeof RecordKind.truncate, group: number, fromIndex: number }
  | { kind: typeof RecordKind.compact, group: number, upToIndex: number, term: number }
  | { kind: typeof RecordKind.hardState, group: number, json: string }
  | { kind: typeof RecordKind.remove, group: number }

export type FrameResult =
  | { status: 'ok', record: DecodedRecord, batchStart: boolean, end: number }
  /** Fewer bytes than the frame needs remain in the buffer. */
  | { status: 'short', need: number }
  /** An all-zero header: space never written. */
  | { status: 'zero' }
  | { status: 'bad', reason: string }

/** Decodes and verifies the frame at `offset` of `buffer` (valid bytes up to `limit`). */
export function decodeFrame (buffer: Buffer, offset: number, limit: number): FrameResult {
  if (limit - offset < FRAME_HEADER_BYTES) return { status: 'short', need: FRAME_HEADER_BYTES }
  const crc = buffer.readUInt32LE(offset)
  const payloadLength = buffer.readUInt32LE(offset + 4)
  const flaggedKind = buffer.readUInt8(offset + 8)
  if (crc === 0 && payloadLength === 0 && flaggedKind === 0) return { status: 'zero' }
  const kind = flaggedKind & ~BATCH_START_FLAG
  if (kind < RecordKind.entries || kind > RecordKind.remove) return { status: 'bad', reason: `unknown record kind ${flaggedKind}` }
  if (payloadLength < 4) return { status: 'bad', reason: `payload length ${payloadLength} too small` }
  const end = offset + FRAME_HEADER_BYTES + payloadLength
  if (end > limit) return { status: 'short', need: FRAME_HEADER_BYTES + payloadLength }
  if (crc32cOfRange(buffer, offset + 4, end) !== crc) return { status: 'bad', reason: 'checksum mismatch' }
  const record = decodePayload(buffer, kind, offset + FRAME_HEADER_BYTES, end)
  if (typeof record === 'string') return { status: 'bad', reason: record }
  return { status: 'ok', record, batchStart: (flaggedKind & BATCH_START_FLAG) !== 0, end }
}

/** The record, or why a payload that passed its checksum still makes no sense. */
function decodePayload (buffer: Buffer, kind: number, payload: number, end: number): DecodedRecord | string {
  const group = buffer.readUInt32LE(payload)
  const length = end - payload
  switch (kind) {
    case RecordKind.entries: {
      if (length < ENTRIES_FIXED_BYTES) return 'entries record too short'
      const count = buffer.readUInt32LE(payload + 4)
      const firstIndex = readU64(buffer, payload + 8)
      const entries: EntryLocation[] = []
      let at = payload + ENTRIES_FIXED_BYTES
      for (let i = 0; i < count; i++) {
        if (at + ENTRY_HEADER_BYTES > end) return 'entries record ends inside an entry'
        const term = readU64(buffer, at)
        const typeCode = buffer.readUInt8(at + 8)
        const dataLength = buffer.readUInt32LE(at + 9)
        if (ENTRY_TYPES[typeCode] === undefined) return `unknown entry type ${typeCode}`
        at += ENTRY_HEADER_BYTES
        if (at + dataLength > end) return 'entries record ends inside an entry'
        entries.push({ term, typeCode, dataOffset: at, dataLength })
        at += dataLength
      }
      if (at !== end || count === 0) return 'entries record has a bad length'
      return { kind, group, firstIndex, entries }
    }
    case RecordKind.truncate:
      if (length !== 12) return 'truncate record has a bad length'
      return { kind, group, fromIndex: readU64(buffer, payload + 4) }
    case RecordKind.compact:
      if (length !== 20) return 'compact record has a bad length'
      return { kind, group, upToIndex: readU64(buffer, payload + 4), term: readU64(buffer, payload + 12) }
    case RecordKind.hardState:
      return { kind, group, json: buffer.toString('utf8', payload + 4, end) }
    default:
      if (length !== 4) return 'remove record has a bad length'
      return { kind: RecordKind.remove, group }
  }
}
