import { P2cBalancer, RandomBalancer } from 'load-balancers'
import type { Balancer, EndpointInit, PickHandle } from '../src/index.js'

/**
 * The npm package `load-balancers` behind our `Balancer` interface, for side-by-side simulation. It
 * counts picks and has no way to report completion, so its "least loaded" is "least picked so far":
 * round robin in disguise. It draws from `Math.random()`, so its rows vary slightly between runs.
 */
export function loadBalancersP2c (endpoints: EndpointInit[], kind: 'p2c' | 'random' = 'p2c'): Balancer {
  const inner = kind === 'p2c' ? new P2cBalancer(endpoints.length) : new RandomBalancer(endpoints.length)
  const list = endpoints.map((endpoint) => ({ id: endpoint.id, address: endpoint.address, weight: endpoint.weight ?? 1 }))
  const unsupported = (): never => { throw new Error('not supported by load-balancers') }
  return {
    policy: 'p2c-least-request',
    pick (): PickHandle {
      const endpoint = list[inner.pick()]!
      return { endpoint, completed: false, complete: () => {} }
    },
    run: unsupported,
    add: unsupported,
    remove: unsupported,
    endpoints: () => [],
    start: async () => {},
    stop: async () => {},
    addEventListener: () => {},
    removeEventListener: () => {}
  }
}
