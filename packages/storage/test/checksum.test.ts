import { describe, expect, it } from 'vitest'
import { crc32cOf, formatChecksum } from '../src/util/checksum.js'

// RFC 3720 (iSCSI), appendix B.4: CRC32C test vectors.
describe('crc32c', () => {
  it('matches the RFC 3720 test vectors', () => {
    expect(crc32cOf(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32cOf(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32cOf(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e)
    expect(crc32cOf(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c)
  })

  it('continues a running checksum across chunks', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff)
    expect(crc32cOf(data.subarray(300), crc32cOf(data.subarray(0, 300)))).toBe(crc32cOf(data))
  })

  it('formats as crc32c: and 8 hex digits', () => {
    expect(formatChecksum(0x1a2b3c)).toBe('crc32c:001a2b3c')
  })
})
