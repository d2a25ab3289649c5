import { createBoundedLoads, createVnodeRing, type BoundedLoads, type Ring } from '@synod/ring'
import type { EndpointState } from '../endpoint-state.js'
import type { Policy, SelectionContext } from './policy.js'

/** Options of the consistent-hash policy. */
export interface ConsistentHashOptions {
  /**
   * Balance factor c of bounded loads: no endpoint takes a request that would put it above
   * `ceil(c × (in flight + 1) × weight / total weight)`; the request walks on along the key's
   * preference list instead. 1.25 is HAProxy's `hash-balance-factor 125`.
   * @default 1.25
   */
  balanceFactor?: number
  /**
   * Virtual nodes per unit of weight on the ring.
   * @default 256
   */
  vnodes?: number
}

const HASH_SPACE = 2 ** 32

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, SODA 2018) on a
 * `@synod/ring` vnode ring. A request with a `key` goes to the key's owner unless that endpoint
 * already carries more than its bounded share of the requests in flight, in which case it goes to the
 * next endpoint of the key's preference list with room: affinity (warm caches, sticky sessions)
 * without hot spots. A request without a key is placed at a random point of the ring. The ring holds
 * the endpoints currently available, so ejected and unhealthy endpoints lose their keys to their
 * ring successors and get them back when they return. Slow start does not apply: affinity wins.
 */
export function consistentHash (options: ConsistentHashOptions = {}): Policy {
  const ring: Ring = createVnodeRing({ vnodes: options.vnodes ?? 256 })
  const loads: BoundedLoads = createBoundedLoads(ring, { factor: options.balanceFactor ?? 1.25 })
  let members: readonly EndpointState[] = []
  const byId = new Map<string, EndpointState>()

  const hashOf = (context: SelectionContext): number =>
    context.key === undefined ? context.random.int(HASH_SPACE) : ring.hash(context.key)

  // A pick with `exclude` sees a subset of the ring: walk the key's preference list for the first
  // allowed endpoint with room, as the bounded-load walk itself does.
  const pickAmong = (candidates: readonly EndpointState[], hash: number): EndpointState => {
    const allowed = new Set(candidates)
    let fallback: EndpointState | undefined
    for (const id of ring.lookupByHash(hash, ring.size)) {
      const state = byId.get(id)
      if (state === undefined || !allowed.has(state)) continue
      fallback ??= state
      if (loads.load(id) + 1 <= loads.capacity(id)) return state
    }
    return fallback ?? candidates[0]!
  }

  return {
    name: 'consistent-hash',
    usesClock: false,
    select (candidates: readonly EndpointState[], context: SelectionContext): EndpointState {
      const hash = hashOf(context)
      const chosen = candidates === members
        ? byId.get(loads.pickByHash(hash) ?? '') ?? candidates[0]!
        : pickAmong(candidates, hash)
      loads.setLoad(chosen.id, loads.load(chosen.id) + 1)
      return chosen
    },
    released (state: EndpointState): void {
      loads.release(state.id)
    },
    candidatesChanged (candidates: readonly EndpointState[]): void {
      members = candidates
      const wanted = new Map(candidates.map((state) => [state.id, state]))
      for (const node of ring.nodes()) {
        const state = wanted.get(node.id)
        if (state === undefined || state.weight !== node.weight) {
          ring.remove(node.id)
          byId.delete(node.id)
        }
      }
      for (const [id, state] of wanted) {
        if (ring.has(id)) continue
        ring.add({ id, weight: state.weight })
        byId.set(id, state)
      }
    }
  }
}
