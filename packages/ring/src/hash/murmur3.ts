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
  if (typeof key === 'string') {
    const length = encodeUtf8(key)
    return murmur3Bytes(utf8Scratch(), length, seed)
  }
  return murmur3Bytes(key, key.length, seed)
}
