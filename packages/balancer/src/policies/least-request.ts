import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/** Expected in-flight requests per unit of weight if this endpoint gets the next one. */
export function requestLoad (state: EndpointState, context: SelectionContext): number {
  return (state.inFlight + 1) / context.weightOf(state)
}

/**
 * Least request, full scan: the candidate with the fewest in-flight requests per unit of weight.
 * O(n) per pick. The scan starts one place further each time so ties rotate instead of always
 * favouring the first endpoint.
 */
export function leastRequest (): Policy {
  let offset = 0
  return {
    name: 'least-request',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      const n = candidates.length
      if (++offset >= n) offset = 0
      let best = candidates[offset]!
      let bestLoad = requestLoad(best, context)
      for (let k = 1; k < n; k++) {
        let i = offset + k
        if (i >= n) i -= n
        const state = candidates[i]!
        const load = requestLoad(state, context)
        if (load < bestLoad) {
          best = state
          bestLoad = load
        }
      }
      return best
    }
  }
}

/** Two distinct random candidates (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing"). */
export function twoChoices (candidates: readonly EndpointState[], context: SelectionContext): [EndpointState, EndpointState] {
  const n = candidates.length
  const first = context.random.int(n)
  if (n === 1) return [candidates[0]!, candidates[0]!]
  let second = context.random.int(n - 1)
  if (second >= first) second++
  return [candidates[first]!, candidates[second]!]
}

/** Power of two choices on in-flight requests per unit of weight (Envoy `LEAST_REQUEST`). O(1) per pick. */
export function p2cLeastRequest (): Policy {
  return {
    name: 'p2c-least-request',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      const [a, b] = twoChoices(candidates, context)
      return requestLoad(b, context) < requestLoad(a, context) ? b : a
    }
  }
}
