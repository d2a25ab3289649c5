/**
 * MurmurHash3 x86 32-bit (Austin Appleby, public domain reference `MurmurHash3_x86_32`).
 *
 * Strings are hashed as their UTF-8 bytes, so `hashKey('é')` equals
 * `hashKey(new TextEncoder().encode('é'))`. The string is encoded into a module-level scratch
 * buffer that only grows, so a lookup allocates nothing.
 */

import { encodeUtf8, utf8Scratch } from './utf8.js'

/** Any key a ring accepts: a string (hashed as UTF-8) or raw bytes. */
export type RingKey = string | Uint8Array

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** MurmurHash3 finaliser: a bijective avalanche of 32 bits. */
export function fmix32 (value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * MurmurHash3_x86_32 of the 4 little-endian bytes of `value`, with `seed`: re-hashes a key hash
 * under another seed (rendezvous scores one key hash per node this way) without touching memory.
 */
export function murmur3Word (value: number, seed: number): number {
  let k = Math.imul(value, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  let h = seed ^ k
  h = (h << 13) | (h >>> 19)
  h = (Math.imul(h, 5) + 0xe6546b64) | 0
  return fmix32(h ^ 4)
}

/** MurmurHash3_x86_32 of `bytes[0, length)` with `seed`, as an unsigned 32-bit integer. */
export function murmur3Bytes (bytes: Uint8Array, length: number, seed: number): number {
  let h = seed | 0
  const blockEnd = length & ~3
  let i = 0
  for (; i < blockEnd; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = length & 3
  if (tail !== 0) {
    let k = 0
    if (tail === 3) k ^= bytes[i + 2]! << 16
    if (tail >= 2) k ^= bytes[i + 1]! << 8
    k ^= bytes[i]!
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= length
  return fmix32(h)
}

/**
 * MurmurHash3_x86_32 of a key (UTF-8 for strings) with an optional seed. Allocation-free.
 *
 * @example
 * ```ts
 * murmur3('hello') // 0x248bfa47
 * ```
 */
export function murmur3 (key: RingKey, seed = 0): number {
  if (typeof key === 'string') return murmur3String(key, seed)
  return murmur3Bytes(key, key.length, seed)
}

/**
 * MurmurHash3_x86_32 of a string's UTF-8 bytes. ASCII strings (the usual key) are hashed straight
 * from their char codes, which are their bytes; at the first non-ASCII block we start over on the
 * encoded bytes.
 */
function murmur3String (text: string, seed: number): number {
  const length = text.length
  let h = seed | 0
  const blockEnd = length & ~3
  let i = 0
  for (; i < blockEnd; i += 4) {
    const c0 = text.charCodeAt(i)
    const c1 = text.charCodeAt(i + 1)
    const c2 = text.charCodeAt(i + 2)
    const c3 = text.charCodeAt(i + 3)
    if ((c0 | c1 | c2 | c3) >= 0x80) return murmur3Utf8(text, seed)
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = length & 3
  if (tail !== 0) {
    const c0 = text.charCodeAt(i)
    const c1 = tail >= 2 ? text.charCodeAt(i + 1) : 0
    const c2 = tail === 3 ? text.charCodeAt(i + 2) : 0
    if ((c0 | c1 | c2) >= 0x80) return murmur3Utf8(text, seed)
    let k = c0 ^ (c1 << 8) ^ (c2 << 16)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= length
  return fmix32(h)
}

function murmur3Utf8 (text: string, seed: number): number {
  // Encode first: encoding may replace the scratch buffer with a larger one.
  const length = encodeUtf8(text)
  return murmur3Bytes(utf8Scratch(), length, seed)
}
