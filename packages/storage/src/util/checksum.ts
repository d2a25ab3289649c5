import { crc32c } from '@node-rs/crc32'

/**
 * CRC32C (Castagnoli), the checksum iSCSI, ext4 metadata and etcd's WAL use. Computed by
 * `@node-rs/crc32` (SSE4.2 / ARMv8 instructions through prebuilt N-API binaries); `previous`
 * continues a running checksum so large data can be checksummed chunk by chunk.
 */
export function crc32cOf (data: Uint8Array, previous?: number): number {
  return crc32c(data, previous)
}

/** The `checksum` string stored with snapshots: `crc32c:` followed by 8 hex digits. */
export function formatChecksum (crc: number): string {
  return `crc32c:${(crc >>> 0).toString(16).padStart(8, '0')}`
}
