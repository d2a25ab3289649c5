import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/** Expected in-flight requests per unit of weight if this endpoint gets the next one. */
export function requestLoad (state: EndpointState): number {
  return (state.inFlight + 1) / state.weight
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
      let best: EndpointState | undefined
      let bestLoad = Infinity
      for (let k = 0; k < n; k++) {
        let i = offset + k
        if (i >= n) i -= n
        const state = candidates[i]!
        const load = requestLoad(state)
        if (load < bestLoad && context.admits(state)) {
          best = state
          bestLoad = load
        }
      }
      return best ?? candidates[offset]!
    }
  }
}

/**
 * Power of two choices (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing"):
 * draws two distinct candidates at random and returns the one with the lower `score`, the first on a
 * tie. While endpoints warm up, a draw that slow start does not admit is drawn again (a few times at
 * most), so a warming endpoint enters the comparison in proportion to its factor.
 */
export function powerOfTwo (candidates: readonly EndpointState[], context: SelectionContext, score: (state: EndpointState) => number): EndpointState {
  const n = candidates.length
  if (n === 1) return candidates[0]!
  const random = context.random
  let first = random.int(n)
  let second = random.int(n - 1)
  if (second >= first) second++
  if (context.warming) {
    for (let tries = 0; tries < 4 && !context.admits(candidates[first]!); tries++) first = random.int(n)
    for (let tries = 0; tries < 4 && (second === first || !context.admits(candidates[second]!)); tries++) {
      second = random.int(n - 1)
      if (second >= first) second++
    }
  }
  const a = candidates[first]!
  const b = candidates[second]!
  return score(b) < score(a) ? b : a
}

/** Power of two choices on in-flight requests per unit of weight (Envoy `LEAST_REQUEST`). O(1) per pick. */
export function p2cLeastRequest (): Policy {
  return {
    name: 'p2c-least-request',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      return powerOfTwo(candidates, context, requestLoad)
    }
  }
}
