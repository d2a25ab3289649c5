import { describe, expect, it } from 'vitest'
import { crc32cOf, crc32cOfRange, formatChecksum, SMALL_CRC_MAX_BYTES } from '../src/util/checksum.js'

// RFC 3720 (iSCSI), appendix B.4: CRC32C test vectors.
describe('crc32c', () => {
  it('matches the RFC 3720 test vectors', () => {
    expect(crc32cOf(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32cOf(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32cOf(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e)
    expect(crc32cOf(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c)
  })

  it('the table-driven path for small ranges matches the RFC 3720 vectors', () => {
    const within = (data: Uint8Array): number => {
      const padded = new Uint8Array(data.byteLength + 10).fill(0x5a)
      padded.set(data, 3)
      return crc32cOfRange(padded, 3, 3 + data.byteLength)
    }
    expect(within(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(within(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(within(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e)
    expect(within(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c)
    expect(within(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
  })

  it('ranges of every length up to past the native threshold match the native library', () => {
    // Seeded bytes; lengths 0..SMALL_CRC_MAX_BYTES+20 at several alignments cover every tail length.
    let seed = 0x2545f491
    const data = Uint8Array.from({ length: SMALL_CRC_MAX_BYTES + 64 }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed >>> 24
    })
    for (let length = 0; length <= SMALL_CRC_MAX_BYTES + 20; length++) {
      const start = length % 7
      expect(crc32cOfRange(data, start, start + length)).toBe(crc32cOf(data.subarray(start, start + length)))
    }
  })

  it('continues a running checksum across chunks', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff)
    expect(crc32cOf(data.subarray(300), crc32cOf(data.subarray(0, 300)))).toBe(crc32cOf(data))
  })

  it('formats as crc32c: and 8 hex digits', () => {
    expect(formatChecksum(0x1a2b3c)).toBe('crc32c:001a2b3c')
  })
})
