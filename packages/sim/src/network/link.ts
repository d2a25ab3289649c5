import { uniform, type Distribution } from '../random/distributions.js'

/** How one directed link behaves. Unset fields fall back to the network's defaults. */
export interface LinkOptions {
  /**
   * One-way delay of each message.
   * @default uniform(1ms, 5ms)
   */
  latency?: Distribution
  /**
   * Probability that a message is silently lost.
   * @default 0
   */
  loss?: number
  /**
   * Probability that a message is delivered twice (the copy has its own latency).
   * @default 0
   */
  duplicate?: number
  /**
   * Probability that a message may overtake earlier messages on the same link. At 0 every link is
   * FIFO, as the `Transport` contract promises; above 0 the simulation models a network that breaks
   * that promise (UDP, a reconnect that replays a queue), which a robust protocol should survive.
   * @default 0
   */
  reorder?: number
  /**
   * Bytes per millisecond the link carries (10_000 is 10 MB/s). When finite, each message first
   * waits for the messages ahead of it to be transmitted (its size is estimated from its data), and
   * bulk messages (`send(to, m, { bulk: true })`) travel on a lane of their own, so small messages
   * overtake a backlog of snapshot chunks, as the `Transport` contract allows. Infinite: no
   * transmission delay and one FIFO lane.
   * @default Infinity
   */
  bandwidth?: number
}

export type ResolvedLink = Required<LinkOptions>

export const defaultLink: ResolvedLink = {
  latency: uniform(1, 5),
  loss: 0,
  duplicate: 0,
  reorder: 0,
  bandwidth: Number.POSITIVE_INFINITY
}

/** A rough encoded size of a plain-data message in bytes, for bandwidth accounting. */
export function estimateSize (value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength + 4
  switch (typeof value) {
    case 'string': return value.length + 2
    case 'number': return 9
    case 'boolean': return 1
    case 'bigint': return 9
    case 'undefined': return 1
    case 'object': {
      if (value === null) return 1
      let size = 2
      if (Array.isArray(value)) {
        for (const item of value) size += estimateSize(item)
      } else {
        for (const [key, item] of Object.entries(value)) size += key.length + 2 + estimateSize(item)
      }
      return size
    }
    default: return 1
  }
}

export function linkKey (from: string, to: string): string {
  return `${from}\u0000${to}`
}
