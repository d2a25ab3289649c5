import type { FileHandle } from 'node:fs/promises'
import type { Logger } from '@synod/interfaces'
import { allZero, checkSegmentHeader, corruptAt, cutTornTailOrThrow, readFully } from '../util/bytes.js'
import {
  BATCH_START_FLAG, decodeFrame, FRAME_HEADER_BYTES, RecordKind, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, SEGMENT_VERSION,
  type DecodedRecord
} from './format.js'

const SCAN_CHUNK_BYTES = 1024 * 1024

export interface SegmentScan {
  path: string
  handle: FileHandle
  seq: number
  /** Only the newest segment may end in a torn write: every older one was synced before the next was created. */
  isLast: boolean
  /** Called for every valid record in order; entry data offsets are absolute file offsets. */
  onRecord: (record: DecodedRecord, offset: number) => void
  logger?: Logger | undefined
}

/**
 * Reads one journal segment at start-up, verifying every record. Returns the size of its valid
 * data (where the next record goes), or undefined for a newest segment that was created but
 * never written (the caller deletes it).
 *
 * - zero bytes after the last record (space never written) are the normal end;
 * - damage in the newest segment with no valid batch start after it is a torn tail: that write
 *   was never acknowledged, so the file is cut at the damage;
 * - any other damage is corruption of acknowledged data: CorruptionError naming file and offset.
 */
export async function scanSegment (scan: SegmentScan): Promise<number | undefined> {
  const { path, handle, seq, isLast } = scan
  const fileSize = (await handle.stat()).size
  if (!(await checkSegmentHeader(handle, path, fileSize, { magic: SEGMENT_MAGIC, version: SEGMENT_VERSION, number: seq, isLast }))) return undefined
  let buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  let bufferStart = 0
  let bufferLength = 0
  let offset = SEGMENT_HEADER_BYTES
  while (offset < fileSize) {
    const result = decodeFrame(buffer, offset - bufferStart, bufferLength)
    if (result.status === 'short') {
      if (offset + result.need > fileSize) {
        if (await allZero(handle, offset, fileSize)) return await cut(scan, offset, fileSize)
        return await onDamage(scan, offset, fileSize, 'partial record')
      }
      if (buffer.byteLength < result.need) buffer = Buffer.allocUnsafe(result.need)
      bufferLength = await readFully(handle, buffer.subarray(0, Math.min(buffer.byteLength, fileSize - offset)), offset)
      bufferStart = offset
      continue
    }
    if (result.status === 'zero') {
      if (await allZero(handle, offset, fileSize)) return await cut(scan, offset, fileSize)
      return await onDamage(scan, offset, fileSize, 'zeroed record')
    }
    if (result.status === 'bad') return await onDamage(scan, offset, fileSize, result.reason)
    const record = result.record
    if (record.kind === RecordKind.entries) {
      for (const entry of record.entries) entry.dataOffset += bufferStart
    }
    try {
      scan.onRecord(record, offset)
    } catch (error) {
      throw corruptAt(path, offset, (error as Error).message)
    }
    offset = bufferStart + result.end
  }
  return offset
}

/** Drops never-written (zero) space at the end, so the next append continues the records. */
async function cut (scan: SegmentScan, offset: number, fileSize: number): Promise<number> {
  if (scan.isLast && offset < fileSize) {
    await scan.handle.truncate(offset)
    await scan.handle.datasync()
  }
  return offset
}

async function onDamage (scan: SegmentScan, offset: number, fileSize: number, reason: string): Promise<number> {
  await cutTornTailOrThrow(scan, offset, reason, 'journal', async (from) => await laterBatchExists(scan.handle, from, fileSize))
  return offset
}

/** True if a valid record flagged as the start of a write batch begins anywhere in [from, fileSize). */
async function laterBatchExists (handle: FileHandle, from: number, fileSize: number): Promise<boolean> {
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  for (let start = from; start < fileSize; start += SCAN_CHUNK_BYTES - FRAME_HEADER_BYTES) {
    const length = await readFully(handle, chunk.subarray(0, Math.min(SCAN_CHUNK_BYTES, fileSize - start)), start)
    for (let at = 8; at < length; at++) {
      const kind = chunk[at] as number
      if ((kind & BATCH_START_FLAG) === 0 || (kind & ~BATCH_START_FLAG) < RecordKind.entries || (kind & ~BATCH_START_FLAG) > RecordKind.remove) continue
      if (await validFrameAt(handle, start + at - 8, fileSize)) return true
    }
    if (start + length >= fileSize) break
  }
  return false
}

async function validFrameAt (handle: FileHandle, offset: number, fileSize: number): Promise<boolean> {
  const header = Buffer.alloc(FRAME_HEADER_BYTES)
  if (await readFully(handle, header, offset) < FRAME_HEADER_BYTES) return false
  const total = FRAME_HEADER_BYTES + header.readUInt32LE(4)
  if (offset + total > fileSize) return false
  const frame = Buffer.allocUnsafe(total)
  await readFully(handle, frame, offset)
  return decodeFrame(frame, 0, total).status === 'ok'
}

