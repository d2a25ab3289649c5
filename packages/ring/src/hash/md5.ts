/**
 * MD5 (RFC 1321), used only by the ketama mode to place points and keys exactly as libketama and
 * the npm `hashring` package do. Not for security. Works on a reusable block buffer, so hashing a
 * key allocates nothing, and returns the four little-endian state words A, B, C, D: ketama reads
 * its 32-bit values as exactly those words.
 */

import type { RingKey } from './murmur3.js'
import { encodeUtf8, utf8Scratch } from './utf8.js'

/** RFC 1321 §3.4: T[i] = floor(2^32 * |sin(i + 1)|). */
const SINE_TABLE = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0)
const SHIFTS = Uint8Array.from([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21
])

const words = new Int32Array(16)
const tailBlock = new Uint8Array(128)

/** The digest as four state words; `digest[0]` is the first 4 bytes read little-endian. */
export type Md5Digest = Int32Array

function compress (state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const p = offset + i * 4
    words[i] = block[p]! | (block[p + 1]! << 8) | (block[p + 2]! << 16) | (block[p + 3]! << 24)
  }
  let a = state[0]!
  let b = state[1]!
  let c = state[2]!
  let d = state[3]!
  for (let i = 0; i < 64; i++) {
    let f: number
    let g: number
    if (i < 16) {
      f = (b & c) | (~b & d)
      g = i
    } else if (i < 32) {
      f = (d & b) | (~d & c)
      g = (5 * i + 1) & 15
    } else if (i < 48) {
      f = b ^ c ^ d
      g = (3 * i + 5) & 15
    } else {
      f = c ^ (b | ~d)
      g = (7 * i) & 15
    }
    f = (f + a + SINE_TABLE[i]! + words[g]!) | 0
    a = d
    d = c
    c = b
    const shift = SHIFTS[i]!
    b = (b + ((f << shift) | (f >>> (32 - shift)))) | 0
  }
  state[0] = (state[0]! + a) | 0
  state[1] = (state[1]! + b) | 0
  state[2] = (state[2]! + c) | 0
  state[3] = (state[3]! + d) | 0
}

/** MD5 of `bytes[0, length)` written into `out` (four words). */
export function md5Bytes (bytes: Uint8Array, length: number, out: Md5Digest): Md5Digest {
  out[0] = 0x67452301
  out[1] = 0xefcdab89 | 0
  out[2] = 0x98badcfe | 0
  out[3] = 0x10325476
  const fullEnd = length - (length % 64)
  for (let offset = 0; offset < fullEnd; offset += 64) compress(out, bytes, offset)
  const rest = length - fullEnd
  tailBlock.fill(0)
  for (let i = 0; i < rest; i++) tailBlock[i] = bytes[fullEnd + i]!
  tailBlock[rest] = 0x80
  const tailLength = rest < 56 ? 64 : 128
  // RFC 1321 §3.2: the message length in bits, 64-bit little-endian.
  const bitLow = (length * 8) >>> 0
  const bitHigh = Math.floor(length / 0x20000000) >>> 0
  const at = tailLength - 8
  tailBlock[at] = bitLow & 0xff
  tailBlock[at + 1] = (bitLow >>> 8) & 0xff
  tailBlock[at + 2] = (bitLow >>> 16) & 0xff
  tailBlock[at + 3] = bitLow >>> 24
  tailBlock[at + 4] = bitHigh & 0xff
  tailBlock[at + 5] = (bitHigh >>> 8) & 0xff
  tailBlock[at + 6] = (bitHigh >>> 16) & 0xff
  tailBlock[at + 7] = bitHigh >>> 24
  compress(out, tailBlock, 0)
  if (tailLength === 128) compress(out, tailBlock, 64)
  return out
}

/** MD5 of a key (UTF-8 for strings) into `out`. Allocation-free. */
export function md5 (key: RingKey, out: Md5Digest): Md5Digest {
  if (typeof key === 'string') {
    // Encode first: encoding may replace the scratch buffer with a larger one.
    const length = encodeUtf8(key)
    return md5Bytes(utf8Scratch(), length, out)
  }
  return md5Bytes(key, key.length, out)
}
