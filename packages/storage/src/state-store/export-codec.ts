import { CorruptionError, throwIfAborted } from '@synod/interfaces'
import { crc32cOf } from '../util/checksum.js'
import { readU64, writeU64 } from '../util/bytes.js'

/*
 * The export format shared by every StateStore in this package (little-endian):
 *
 *   header   magic 'SYNS' u32, version u32, applied index u64
 *   record   key length u32, value length u32, key (UTF-8), value     (repeated, in key order)
 *   trailer  0xFFFFFFFF u32, record count u64, crc32c u32 of every byte before the crc
 *
 * The trailer's checksum and count let an import reject a truncated or damaged stream before it
 * replaces anything.
 */

const MAGIC = 0x534e5953 // 'SYNS'
const VERSION = 1
const HEADER_BYTES = 16
const END_MARKER = 0xffffffff
const TRAILER_BYTES = 16

/** Encodes key/value pairs as export chunks of about `chunkBytes`. */
export async function * encodeExport (appliedIndex: number, pairs: Iterable<readonly [string, Uint8Array]>, chunkBytes = 64 * 1024, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let crc = 0
  let count = 0
  let parts: Buffer[] = []
  let partsBytes = 0
  const push = (part: Buffer): void => {
    crc = crc32cOf(part, crc)
    parts.push(part)
    partsBytes += part.byteLength
  }
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(VERSION, 4)
  writeU64(header, appliedIndex, 8)
  push(header)
  for (const [key, value] of pairs) {
    throwIfAborted(signal)
    const keyBytes = Buffer.from(key, 'utf8')
    const lengths = Buffer.alloc(8)
    lengths.writeUInt32LE(keyBytes.byteLength, 0)
    lengths.writeUInt32LE(value.byteLength, 4)
    push(lengths)
    push(keyBytes)
    push(Buffer.from(value))
    count++
    if (partsBytes >= chunkBytes) {
      yield Buffer.concat(parts)
      parts = []
      partsBytes = 0
    }
  }
  const trailer = Buffer.alloc(TRAILER_BYTES)
  trailer.writeUInt32LE(END_MARKER, 0)
  writeU64(trailer, count, 4)
  crc = crc32cOf(trailer.subarray(0, 12), crc)
  trailer.writeUInt32LE(crc, 12)
  parts.push(trailer)
  yield Buffer.concat(parts)
}

/**
 * Decodes an export, calling `onPair` for each record as it arrives (the caller stages them), and
 * resolves once the trailer has verified the whole stream. Rejects with ERR_CORRUPT otherwise.
 */
export async function decodeExport (chunks: AsyncIterable<Uint8Array>, onPair: (key: string, value: Uint8Array) => void | Promise<void>, signal?: AbortSignal): Promise<{ appliedIndex: number, count: number }> {
  let pending: Buffer = Buffer.alloc(0)
  let consumed = 0
  let crc = 0
  let appliedIndex: number | undefined
  let count = 0
  let finished = false
  const corrupt = (reason: string): CorruptionError => new CorruptionError(`state export: ${reason} at byte ${consumed}`, { offset: consumed })
  const take = (length: number): Buffer => {
    const part = pending.subarray(0, length)
    pending = pending.subarray(length)
    consumed += length
    return part
  }
  for await (const chunk of chunks) {
    throwIfAborted(signal)
    if (finished) throw corrupt('data after the trailer')
    pending = pending.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk])
    for (;;) {
      if (appliedIndex === undefined) {
        if (pending.byteLength < HEADER_BYTES) break
        const header = take(HEADER_BYTES)
        if (header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) !== VERSION) throw corrupt('not a Synod state export')
        crc = crc32cOf(header, crc)
        appliedIndex = readU64(header, 8)
        continue
      }
      if (pending.byteLength < 4) break
      if (pending.readUInt32LE(0) === END_MARKER) {
        if (pending.byteLength < TRAILER_BYTES) break
        const trailer = take(TRAILER_BYTES)
        crc = crc32cOf(trailer.subarray(0, 12), crc)
        if (trailer.readUInt32LE(12) !== crc) throw corrupt('checksum mismatch')
        if (readU64(trailer, 4) !== count) throw corrupt('record count mismatch')
        finished = true
        if (pending.byteLength > 0) throw corrupt('data after the trailer')
        break
      }
      if (pending.byteLength < 8) break
      const keyLength = pending.readUInt32LE(0)
      const valueLength = pending.readUInt32LE(4)
      if (pending.byteLength < 8 + keyLength + valueLength) break
      const record = take(8 + keyLength + valueLength)
      crc = crc32cOf(record, crc)
      await onPair(record.subarray(8, 8 + keyLength).toString('utf8'), new Uint8Array(record.subarray(8 + keyLength)))
      count++
    }
  }
  if (!finished || appliedIndex === undefined) throw corrupt('stream ended before its trailer')
  return { appliedIndex, count }
}
