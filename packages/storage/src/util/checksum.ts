import { crc32c } from '@node-rs/crc32'

/**
 * CRC32C (Castagnoli), the checksum iSCSI, ext4 metadata and etcd's WAL use. Computed by
 * `@node-rs/crc32` (SSE4.2 / ARMv8 instructions through prebuilt N-API binaries); `previous`
 * continues a running checksum so large data can be checksummed chunk by chunk.
 */
export function crc32cOf (data: Uint8Array, previous?: number): number {
  return crc32c(data, previous)
}

/**
 * Below this many bytes a range is checksummed in JavaScript: crossing into the native library
 * costs about a microsecond per call (more than the table lookups for a 100-byte log record), and
 * the log checksums every record it writes or reads.
 */
export const SMALL_CRC_MAX_BYTES = 1024

/** Reflected CRC32C polynomial (RFC 3720, appendix B.4). */
const POLYNOMIAL = 0x82f63b78

/** Slicing-by-8 tables (Intel's 2006 "slicing-by-8" paper): table k maps a byte k positions back. */
const TABLES = buildTables()

function buildTables (): Int32Array {
  const tables = new Int32Array(8 * 256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte
    for (let bit = 0; bit < 8; bit++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1
    tables[byte] = crc
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let slice = 1; slice < 8; slice++) {
      const previous = tables[(slice - 1) * 256 + byte] as number
      tables[slice * 256 + byte] = (previous >>> 8) ^ (tables[previous & 0xff] as number)
    }
  }
  return tables
}

/**
 * CRC32C of `data[start, end)`, the same value as `crc32cOf(data.subarray(start, end))` but
 * without a subarray or a native call for small ranges.
 */
export function crc32cOfRange (data: Uint8Array, start: number, end: number): number {
  if (end - start > SMALL_CRC_MAX_BYTES) return crc32c(data.subarray(start, end))
  const t = TABLES
  let crc = ~0
  let i = start
  for (; i + 8 <= end; i += 8) {
    const low = ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)) ^ crc
    crc = (t[1792 + (low & 0xff)] as number) ^ (t[1536 + ((low >>> 8) & 0xff)] as number) ^
      (t[1280 + ((low >>> 16) & 0xff)] as number) ^ (t[1024 + (low >>> 24)] as number) ^
      (t[768 + (data[i + 4] as number)] as number) ^ (t[512 + (data[i + 5] as number)] as number) ^
      (t[256 + (data[i + 6] as number)] as number) ^ (t[data[i + 7] as number] as number)
  }
  for (; i < end; i++) crc = (t[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  return ~crc >>> 0
}

/** The `checksum` string stored with snapshots: `crc32c:` followed by 8 hex digits. */
export function formatChecksum (crc: number): string {
  return `crc32c:${(crc >>> 0).toString(16).padStart(8, '0')}`
}
