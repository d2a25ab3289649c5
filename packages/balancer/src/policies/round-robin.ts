import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/** Plain round robin: each candidate in turn. Ignores weights and load. */
export function roundRobin (): Policy {
  let cursor = 0
  return {
    name: 'round-robin',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      const n = candidates.length
      for (let tries = 0; ; tries++) {
        if (cursor >= n) cursor = 0
        const state = candidates[cursor++]!
        if (tries >= n || context.admits(state)) return state
      }
    }
  }
}
