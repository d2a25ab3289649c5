import { Packr, Unpackr } from 'msgpackr'
import { BadFrameError } from '@synod/interfaces'

/** First element of every data frame; anything else after the handshake is a bad frame. */
export const DATA_FRAME_TAG = 1

/**
 * Encodes and decodes the data frames of one connection. A frame is the MessagePack array
 * `[DATA_FRAME_TAG, message, message, ...]`: everything one peer queued for another in one
 * event-loop turn travels as one WebSocket message.
 *
 * With `records`, objects are written as msgpackr records in sequential mode: the first frame that
 * uses a shape defines it inline and later frames refer to it by a one-byte id. That needs the
 * decoder to see every frame in order, which one WebSocket connection guarantees; a new connection
 * starts a new codec pair. Measured on Raft-shaped messages it shrinks frames by half and decodes
 * 2-3x faster than plain maps (see the README).
 */
export class FrameCodec {
  readonly #packr: Packr
  readonly #unpackr: Unpackr

  constructor (records: boolean) {
    // msgpackr mutates its options object, so each instance gets its own.
    const options = (): ConstructorParameters<typeof Packr>[0] => records
      ? { useRecords: true, sequential: true, mapsAsObjects: true }
      : { useRecords: false, mapsAsObjects: true }
    this.#packr = new Packr(options())
    this.#unpackr = new Unpackr(options())
  }

  /** Encodes `frame`, whose first element must be `DATA_FRAME_TAG`. */
  encode (frame: unknown[]): Buffer {
    return this.#packr.pack(frame)
  }

  /**
   * Decodes one frame and checks its envelope. Binary payloads in the result are views of `bytes`
   * (no copy). Throws `ERR_BAD_FRAME` on malformed MessagePack, trailing bytes or a wrong envelope.
   */
  decode (bytes: Buffer): unknown[] {
    let value: unknown
    try {
      value = this.#unpackr.unpack(bytes)
    } catch (err) {
      throw new BadFrameError(`malformed MessagePack: ${(err as Error).message.slice(0, 80)}`, { cause: err })
    }
    if (!Array.isArray(value) || value.length < 2 || value[0] !== DATA_FRAME_TAG) {
      throw new BadFrameError('not a data frame')
    }
    return value
  }
}
