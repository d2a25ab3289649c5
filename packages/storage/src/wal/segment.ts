import type { FileHandle } from 'node:fs/promises'
import { basename } from 'node:path'
import { CorruptionError, type LogEntry } from '@synod/interfaces'
import { decodeFrame, FRAME_HEADER_BYTES } from './frame.js'

/** Every SPARSE_STRIDE-th entry of a segment has its file offset kept in memory. */
export const SPARSE_STRIDE = 64

/** One segment file of the log, as known in memory (its entries stay on disk). */
export interface Segment {
  /** Index of the segment's first entry (also in its file name and header). */
  readonly firstIndex: number
  /** Index of its last entry; `firstIndex - 1` while empty. */
  lastIndex: number
  readonly path: string
  readonly handle: FileHandle
  /** Bytes of valid data, header included: where the next frame goes. */
  size: number
  /** sparse[k] is the file offset of entry `firstIndex + k * SPARSE_STRIDE`. */
  sparse: number[]
}

export function segmentFileName (firstIndex: number): string {
  return `${String(firstIndex).padStart(20, '0')}.wal`
}

export function parseSegmentFileName (name: string): number | undefined {
  const match = /^(\d{20})\.wal$/.exec(name)
  return match === null ? undefined : Number(match[1])
}

/**
 * Reads frames of one segment sequentially through a reusable buffer, so a range read costs one
 * or a few positioned reads and never loads the segment.
 */
export class FrameReader {
  private buffer: Buffer
  private bufferStart = 0
  private bufferLength = 0

  constructor (private readonly segment: Segment, public offset: number, chunkBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(chunkBytes)
  }

  /** The next entry, or undefined at the end of the segment's valid data. */
  async next (copyData = true): Promise<LogEntry | undefined> {
    if (this.offset >= this.segment.size) return undefined
    for (;;) {
      const result = decodeFrame(this.buffer, this.offset - this.bufferStart, this.bufferLength, copyData)
      if (result.status === 'ok') {
        this.offset = this.bufferStart + result.end
        return result.entry
      }
      if (result.status !== 'short' || this.offset + result.need > this.segment.size) {
        const reason = result.status === 'bad' ? result.reason : `${result.status} frame`
        throw new CorruptionError(`${basename(this.segment.path)}: ${reason} at offset ${this.offset}`, { file: this.segment.path, offset: this.offset })
      }
      await this.fill(Math.max(result.need, FRAME_HEADER_BYTES))
    }
  }

  private async fill (need: number): Promise<void> {
    if (this.buffer.byteLength < need) this.buffer = Buffer.allocUnsafe(need)
    const length = Math.min(this.buffer.byteLength, this.segment.size - this.offset)
    let read = 0
    while (read < length) {
      const { bytesRead } = await this.segment.handle.read(this.buffer, read, length - read, this.offset + read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    this.bufferStart = this.offset
    this.bufferLength = read
  }
}
