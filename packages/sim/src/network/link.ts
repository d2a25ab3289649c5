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
}

export type ResolvedLink = Required<LinkOptions>

export const defaultLink: ResolvedLink = {
  latency: uniform(1, 5),
  loss: 0,
  duplicate: 0,
  reorder: 0
}

export function linkKey (from: string, to: string): string {
  return `${from}\u0000${to}`
}
