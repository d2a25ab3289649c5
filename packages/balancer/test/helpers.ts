import { createBalancer, createSeededRandom, createVirtualClock, type BalancerInit, type EndpointInit, type VirtualClock } from '../src/index.js'
import type { Balancer } from '../src/index.js'

export const ids = (n: number): EndpointInit[] => Array.from({ length: n }, (_, i) => ({ id: `e${i}` }))

/** A balancer on a virtual clock with a seeded random. */
export function setup (init: BalancerInit, seed = 7): { balancer: Balancer, clock: VirtualClock } {
  const clock = createVirtualClock()
  const balancer = createBalancer(init, { clock, random: createSeededRandom(seed) })
  return { balancer, clock }
}

/** Picks `n` times, completing each pick at once with `outcome`; returns how often each id was picked. */
export function tally (balancer: Balancer, n: number, outcome: 'success' | 'failure' = 'success'): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const handle = balancer.pick()
    counts.set(handle.endpoint.id, (counts.get(handle.endpoint.id) ?? 0) + 1)
    handle.complete(outcome)
  }
  return counts
}

/** Lets pending promise callbacks run (probes resolve in microtasks). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/** Advances virtual time in steps, letting async probes settle between them. */
export async function advance (clock: VirtualClock, ms: number, stepMs = 100): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
    clock.advance(Math.min(stepMs, ms - elapsed))
    await settle()
  }
}
