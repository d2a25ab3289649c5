import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/**
 * nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`): every pick adds each
 * endpoint's weight to its running weight, takes the largest, and subtracts the total from the
 * winner. Weights {5, 1, 1} give a a b a c a a rather than a a a a a b c: picks of the same endpoint
 * are spread out. Slow start lowers the effective weight while an endpoint warms up.
 */
export function weightedRoundRobin (): Policy {
  return {
    name: 'weighted-round-robin',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      let best = candidates[0]!
      let bestWeight = -Infinity
      let total = 0
      for (let i = 0; i < candidates.length; i++) {
        const state = candidates[i]!
        const weight = context.weightOf(state)
        state.currentWeight += weight
        total += weight
        if (state.currentWeight > bestWeight) {
          best = state
          bestWeight = state.currentWeight
        }
      }
      best.currentWeight -= total
      return best
    },
    membershipChanged (all: readonly EndpointState[]): void {
      // A fresh sequence after a change: stale running weights would favour survivors for a while.
      for (const state of all) state.currentWeight = 0
    }
  }
}
