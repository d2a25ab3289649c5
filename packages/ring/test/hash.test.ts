import { createHash } from 'node:crypto'
import fc from 'fast-check'
import murmurhash from 'murmurhash'
import { describe, expect, it } from 'vitest'
import { jumpHash, murmur3 } from '../src/index.js'
import { md5 } from '../src/hash/md5.js'
import { murmur3Word } from '../src/hash/murmur3.js'

/** The paper's C++ on unsigned 64-bit integers, with BigInt. */
function referenceJump (key: bigint, buckets: number): number {
  let b = -1n
  let j = 0n
  let k = key
  while (j < BigInt(buckets)) {
    b = j
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn
    j = BigInt(Math.floor(Number(b + 1n) * (Number(1n << 31n) / Number((k >> 33n) + 1n))))
  }
  return Number(b)
}

const encoder = new TextEncoder()

describe('murmur3', () => {
  it('matches the reference test vectors', () => {
    expect(murmur3('')).toBe(0)
    expect(murmur3('', 1)).toBe(0x514e28b7)
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39)
    expect(murmur3('hello')).toBe(0x248bfa47)
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3)
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723)
  })

  it('agrees with the murmurhash package on bytes and ASCII strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), (bytes, seed) => {
      expect(murmur3(bytes, seed)).toBe(murmurhash.v3(bytes, seed))
    }), { seed: 7, numRuns: 500 })
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (text) => {
      expect(murmur3(text)).toBe(murmurhash.v3(text))
    }), { seed: 8, numRuns: 300 })
  })

  it('hashes a string exactly as its UTF-8 bytes, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(), (text, seed) => {
      expect(murmur3(text, seed)).toBe(murmur3(encoder.encode(text), seed))
    }), { seed: 9, numRuns: 500 })
  })

  it('hashes ASCII strings from char codes and falls back to UTF-8 at any position', () => {
    for (let length = 0; length <= 13; length++) {
      const ascii = 'abcdefghijklmnop'.slice(0, length)
      expect(murmur3(ascii, 3)).toBe(murmur3(encoder.encode(ascii), 3))
      for (let at = 0; at < length; at++) {
        for (const char of ['é', '€', '😀', '\u0080', '\ud800']) {
          const mixed = ascii.slice(0, at) + char + ascii.slice(at + 1)
          expect(murmur3(mixed, 3)).toBe(murmur3(encoder.encode(mixed), 3))
        }
      }
    }
  })

  it('murmur3Word equals murmur3 of the word\'s 4 little-endian bytes', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (value, seed) => {
      const bytes = new Uint8Array(4)
      new DataView(bytes.buffer).setUint32(0, value, true)
      expect(murmur3Word(value, seed)).toBe(murmur3(bytes, seed))
    }), { seed: 12, numRuns: 300 })
  })

  it('handles a key longer than the initial scratch buffer, then short ones again', () => {
    const long = 'ü'.repeat(5000)
    expect(murmur3(long)).toBe(murmur3(encoder.encode(long)))
    expect(murmur3('hello')).toBe(0x248bfa47)
  })
})

describe('md5', () => {
  it('equals node:crypto on strings and bytes of every padding case', () => {
    const digest = new Int32Array(4)
    const toHex = (words: Int32Array): string => Buffer.from(new Uint8Array(Int32Array.from(words).buffer)).toString('hex')
    for (let length = 0; length < 200; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff)
      expect(toHex(md5(bytes, digest))).toBe(createHash('md5').update(bytes).digest('hex'))
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      expect(toHex(md5(text, digest))).toBe(createHash('md5').update(text, 'utf8').digest('hex'))
    }), { seed: 10, numRuns: 300 })
  })
})

describe('jumpHash', () => {
  it('equals the paper\'s algorithm on 64-bit keys', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 1, max: 100_000 }), (key, buckets) => {
      const high = Number(key >> 32n)
      const low = Number(key & 0xffffffffn)
      expect(jumpHash(high, low, buckets)).toBe(referenceJump(key, buckets))
    }), { seed: 11, numRuns: 600 })
  })

  it('returns -1 for no buckets and 0 for one', () => {
    expect(jumpHash(1, 2, 0)).toBe(-1)
    expect(jumpHash(1, 2, 1)).toBe(0)
  })
})
