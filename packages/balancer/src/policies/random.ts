import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/** Uniform random choice. Ignores weights and load; the baseline every other policy should beat. */
export function randomChoice (): Policy {
  return {
    name: 'random',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      const n = candidates.length
      for (let tries = 0; ; tries++) {
        const state = candidates[context.random.int(n)]!
        if (tries >= n || context.admits(state)) return state
      }
    }
  }
}
