/**
 * A cheap upper-bound guess of a message's encoded size, used to account queue bytes before the
 * message is encoded (encoding happens at flush time, on the connection's own encoder). Binary
 * payloads dominate real traffic and are counted exactly; the rest is approximated.
 */
export function estimateSize (value: unknown, depth = 0): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1
  if (typeof value === 'number') return 9
  if (typeof value === 'string') return value.length + 5
  if (typeof value === 'bigint') return 9
  if (depth > 32) return 1
  if (ArrayBuffer.isView(value)) return value.byteLength + 5
  if (Array.isArray(value)) {
    let size = 5
    for (const item of value) size += estimateSize(item, depth + 1)
    return size
  }
  if (typeof value === 'object') {
    let size = 5
    for (const key in value) size += key.length + 1 + estimateSize((value as Record<string, unknown>)[key], depth + 1)
    return size
  }
  return 1
}
