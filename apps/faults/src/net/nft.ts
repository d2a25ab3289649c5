import type { Cut } from './grudge.js'

/** The nft table the suite owns in the bridge namespace; nothing else there is touched. */
export const NFT_TABLE = 'synod_faults'

export interface NetworkFaults {
  /** Directed cuts between nodes (by id). */
  readonly cuts: readonly Cut[]
  /** Percentage (0 to 100) of packets between nodes dropped at random. @default 0 */
  readonly lossPercent?: number | undefined
}

/**
 * The nft script that replaces the suite's table with one enforcing `faults`. The table lives in
 * the bridge family on the bridge's forward hook, so it filters frames between the veth ports
 * (no br_netfilter needed). Client traffic is never filtered: the nemesis cuts nodes from each other,
 * the load generator keeps reaching every node, as in Jepsen.
 *
 * The script first creates then deletes the table so it is valid whether or not the table exists,
 * and the kernel applies the whole file atomically.
 */
export function nftScript (faults: NetworkFaults, ipOf: (id: string) => string, nodeIds: readonly string[]): string {
  const lines = [
    `table bridge ${NFT_TABLE}`,
    `delete table bridge ${NFT_TABLE}`,
    `table bridge ${NFT_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;'
  ]
  for (const [from, to] of faults.cuts) lines.push(`    ip saddr ${ipOf(from)} ip daddr ${ipOf(to)} drop`)
  const loss = faults.lossPercent ?? 0
  if (loss < 0 || loss > 100 || !Number.isInteger(loss)) throw new RangeError(`lossPercent must be an integer 0 to 100, got ${loss}`)
  if (loss > 0 && nodeIds.length > 0) {
    const set = `{ ${nodeIds.map(ipOf).join(', ')} }`
    lines.push(`    ip saddr ${set} ip daddr ${set} numgen random mod 100 < ${loss} drop`)
  }
  lines.push('  }', '}')
  return lines.join('\n') + '\n'
}

/** The nft script that heals every network fault. */
export function nftHealScript (): string {
  return `table bridge ${NFT_TABLE}\ndelete table bridge ${NFT_TABLE}\n`
}
