import type { LogEntry } from '@synod/interfaces'
import { crc32cOfRange } from '../util/checksum.js'
import { encodeSegmentHeader as encodeSegmentHeaderOf, entryTypeCode, ENTRY_TYPES, putU32, readU64, SEGMENT_HEADER_BYTES, writeU64 } from '../util/bytes.js'

export { readU64 }

/*
 * On-disk record framing (little-endian):
 *
 *   0  u32  crc32c of bytes 4 .. end of payload (length, kind and payload)
 *   4  u32  payload length
 *   8  u8   kind: low 7 bits the record kind, high bit set on the first record of a write batch
 *   9  ...  payload
 *
 * An entry's payload is: index u64, term u64, entry type u8, data. The batch-start bit lets
 * recovery tell a torn tail (damage inside the last, unacknowledged write) from corruption of data
 * that was acknowledged: a valid batch start after a damaged record proves the damaged record was
 * synced before a later write began.
 */

export const FRAME_HEADER_BYTES = 9
export const ENTRY_FIXED_BYTES = 17
export const RECORD_KIND_ENTRY = 1
export const BATCH_START_FLAG = 0x80

/** Segment file header: magic, format version, index of the segment's first entry. */
export const SEGMENT_MAGIC = 0x4c4e5953 // 'SYNL'
export const SEGMENT_VERSION = 1
export { SEGMENT_HEADER_BYTES }


export function frameBytes (entry: LogEntry): number {
  return FRAME_HEADER_BYTES + ENTRY_FIXED_BYTES + entry.data.byteLength
}

/**
 * Writes `entry` as one frame into `target` at `offset`; returns the offset after it. The caller
 * sizes `target` with frameBytes. Bytes are stored directly rather than through Buffer's checked
 * write methods: this runs for every record the log writes.
 */
export function encodeEntryFrame (entry: LogEntry, batchStart: boolean, target: Buffer, offset: number): number {
  const payloadLength = ENTRY_FIXED_BYTES + entry.data.byteLength
  putU32(target, payloadLength, offset + 4)
  target[offset + 8] = RECORD_KIND_ENTRY | (batchStart ? BATCH_START_FLAG : 0)
  const payload = offset + FRAME_HEADER_BYTES
  writeU64(target, entry.index, payload)
  writeU64(target, entry.term, payload + 8)
  target[payload + 16] = entryTypeCode(entry.type)
  target.set(entry.data, payload + ENTRY_FIXED_BYTES)
  const end = payload + payloadLength
  putU32(target, crc32cOfRange(target, offset + 4, end), offset)
  return end
}

/** What a frame at some offset turned out to be. */
export type FrameResult =
  | { status: 'ok', entry: LogEntry, batchStart: boolean, end: number }
  /** Fewer bytes than the frame needs remain in the buffer; read more (or, at end of file, torn). */
  | { status: 'short', need: number }
  /** An all-zero header: unwritten (preallocated) space. */
  | { status: 'zero' }
  | { status: 'bad', reason: string }

/** Decodes the frame at `offset` of `buffer` (valid bytes up to `limit`), verifying its checksum. */
export function decodeFrame (buffer: Buffer, offset: number, limit: number, copyData: boolean): FrameResult {
  if (limit - offset < FRAME_HEADER_BYTES) return { status: 'short', need: FRAME_HEADER_BYTES }
  const crc = buffer.readUInt32LE(offset)
  const payloadLength = buffer.readUInt32LE(offset + 4)
  const kind = buffer.readUInt8(offset + 8)
  if (crc === 0 && payloadLength === 0 && kind === 0) return { status: 'zero' }
  if ((kind & ~BATCH_START_FLAG) !== RECORD_KIND_ENTRY) return { status: 'bad', reason: `unknown record kind ${kind}` }
  if (payloadLength < ENTRY_FIXED_BYTES) return { status: 'bad', reason: `payload length ${payloadLength} too small` }
  const end = offset + FRAME_HEADER_BYTES + payloadLength
  if (end > limit) return { status: 'short', need: FRAME_HEADER_BYTES + payloadLength }
  if (crc32cOfRange(buffer, offset + 4, end) !== crc) return { status: 'bad', reason: 'checksum mismatch' }
  const payload = offset + FRAME_HEADER_BYTES
  const type = ENTRY_TYPES[buffer.readUInt8(payload + 16)]
  if (type === undefined) return { status: 'bad', reason: 'unknown entry type' }
  const dataView = buffer.subarray(payload + ENTRY_FIXED_BYTES, end)
  return {
    status: 'ok',
    batchStart: (kind & BATCH_START_FLAG) !== 0,
    end,
    entry: {
      index: readU64(buffer, payload),
      term: readU64(buffer, payload + 8),
      type,
      data: copyData ? new Uint8Array(dataView) : dataView
    }
  }
}

export function encodeSegmentHeader (firstIndex: number): Buffer {
  return encodeSegmentHeaderOf(SEGMENT_MAGIC, SEGMENT_VERSION, firstIndex)
}
