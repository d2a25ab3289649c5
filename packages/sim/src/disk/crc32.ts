/** CRC-32 (IEEE 802.3, the zlib polynomial), table-driven. Checksums snapshot data. */
const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32 (chunks: Iterable<Uint8Array>): number {
  let crc = 0xffffffff
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      crc = (TABLE[(crc ^ (chunk[i] as number)) & 0xff] as number) ^ (crc >>> 8)
    }
  }
  return (crc ^ 0xffffffff) >>> 0
}

export function crc32Label (chunks: Iterable<Uint8Array>): string {
  return `crc32:${crc32(chunks).toString(16).padStart(8, '0')}`
}
