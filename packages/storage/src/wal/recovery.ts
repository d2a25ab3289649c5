import type { FileHandle } from 'node:fs/promises'
import type { Logger } from '@synod/interfaces'
import { allZero, checkSegmentHeader, corruptAt, cutTornTailOrThrow, readFully } from '../util/bytes.js'
import { BATCH_START_FLAG, decodeFrame, FRAME_HEADER_BYTES, RECORD_KIND_ENTRY, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, SEGMENT_VERSION } from './frame.js'
import { SPARSE_STRIDE, type Segment } from './segment.js'

const SCAN_CHUNK_BYTES = 1024 * 1024

export interface ScanOptions {
  path: string
  handle: FileHandle
  firstIndex: number
  /** Only the newest segment may have a torn tail: every older one was synced before it was created. */
  isLast: boolean
  onEntry: (index: number, term: number) => void
  logger?: Logger | undefined
}

/**
 * Reads a segment at start-up, verifying every frame, rebuilding its sparse offset index and
 * reporting each entry's term. Returns undefined for a newest segment that was created but never
 * written (the caller deletes it).
 *
 * Damage handling:
 * - all-zero bytes after the last frame are preallocated space: the normal end;
 * - damage in the newest segment with no valid batch-start frame after it is a torn tail: the
 *   last write was never acknowledged, so the file is cut at the damage;
 * - anything else (damage followed by a later write, or in an older segment, or an index out of
 *   sequence) is corruption of acknowledged data: CorruptionError naming the file and offset.
 */
export async function scanSegment (options: ScanOptions): Promise<Segment | undefined> {
  const { path, handle, firstIndex, isLast } = options
  const fileSize = (await handle.stat()).size
  if (!(await checkSegmentHeader(handle, path, fileSize, { magic: SEGMENT_MAGIC, version: SEGMENT_VERSION, number: firstIndex, isLast }))) return undefined

  const segment: Segment = { firstIndex, lastIndex: firstIndex - 1, path, handle, size: SEGMENT_HEADER_BYTES, sparse: [] }
  let buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  let bufferStart = 0
  let bufferLength = 0
  let offset = SEGMENT_HEADER_BYTES
  let expected = firstIndex
  while (offset < fileSize) {
    const result = decodeFrame(buffer, offset - bufferStart, bufferLength, false)
    if (result.status === 'short') {
      if (offset + result.need > fileSize) {
        // Fewer zero bytes than a frame header at the end of a preallocated segment is its
        // normal end; anything else there is a record cut short.
        if (!(await allZero(handle, offset, fileSize))) await onDamage(options, segment, offset, fileSize, 'partial record')
        break
      }
      if (buffer.byteLength < result.need) buffer = Buffer.allocUnsafe(result.need)
      bufferLength = await readFully(handle, buffer.subarray(0, Math.min(buffer.byteLength, fileSize - offset)), offset)
      bufferStart = offset
      continue
    }
    if (result.status === 'zero') {
      if (!(await allZero(handle, offset, fileSize))) await onDamage(options, segment, offset, fileSize, 'zeroed record')
      break
    }
    if (result.status === 'bad') {
      await onDamage(options, segment, offset, fileSize, result.reason)
      break
    }
    if (result.entry.index !== expected) {
      throw corruptAt(path, offset, `entry index ${result.entry.index} where ${expected} was expected`)
    }
    if ((expected - firstIndex) % SPARSE_STRIDE === 0) segment.sparse.push(offset)
    options.onEntry(expected, result.entry.term)
    segment.lastIndex = expected
    expected++
    offset = bufferStart + result.end
    segment.size = offset
  }
  return segment
}

async function onDamage (options: ScanOptions, segment: Segment, offset: number, fileSize: number, reason: string): Promise<void> {
  await cutTornTailOrThrow(options, offset, reason, 'log', async (from) => await laterWriteExists(options.handle, from, fileSize))
  segment.size = offset
}

/** True if a valid frame marked as the start of a write batch begins anywhere in [from, fileSize). */
async function laterWriteExists (handle: FileHandle, from: number, fileSize: number): Promise<boolean> {
  const marker = BATCH_START_FLAG | RECORD_KIND_ENTRY
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  for (let start = from; start < fileSize; start += SCAN_CHUNK_BYTES - FRAME_HEADER_BYTES) {
    const length = await readFully(handle, chunk.subarray(0, Math.min(SCAN_CHUNK_BYTES, fileSize - start)), start)
    let at = chunk.indexOf(marker, 8)
    while (at >= 0 && at < length) {
      const frameStart = start + at - 8
      if (await validFrameAt(handle, frameStart, fileSize)) return true
      at = chunk.indexOf(marker, at + 1)
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
  return decodeFrame(frame, 0, total, false).status === 'ok'
}

