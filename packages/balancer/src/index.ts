/**
 * @packageDocumentation
 *
 * Load balancing that routes around slow and failing backends. One `Balancer` interface over seven
 * policies (round robin, nginx's smooth weighted round robin, random, least request, P2C least
 * request, P2C peak-EWMA latency after Finagle and Linkerd, consistent hash with bounded load), with
 * passive outlier ejection, active health checks, slow start and a retry budget after Envoy. A
 * request is always completed, so in-flight counts cannot leak: `run()` does it for you, and a
 * `pick()` handle completes once whatever happens.
 *
 * The package also ships the seeded discrete-event simulator its benchmarks run on.
 *
 * @example
 * ```ts
 * import { createBalancer } from '@synod/balancer'
 *
 * const balancer = createBalancer({
 *   policy: 'p2c-peak-ewma',
 *   endpoints: [{ id: 'a', address: 'http://10.0.0.1' }, { id: 'b', address: 'http://10.0.0.2' }]
 * })
 * const answer = await balancer.run(async (endpoint) => `asked ${endpoint.address ?? endpoint.id}`)
 * console.log(answer)
 * ```
 */
export { createBalancer, type BalancerInit, type BalancerComponents } from './balancer.js'
export { NoEndpointError } from './errors.js'
export { systemClock } from './clock.js'
export { createSeededRandom, createEntropyRandom } from './random.js'
export { createRetryBudget, type RetryBudget, type RetryBudgetOptions } from './retry-budget.js'
export type { OutlierDetectionOptions, SuccessRateOptions } from './health/outlier-detection.js'
export type { HealthCheckOptions, HealthProbe } from './health/active-health-check.js'
export type { SlowStartOptions } from './slow-start.js'
export type { PeakEwmaOptions } from './policies/peak-ewma.js'
export type { ConsistentHashOptions } from './policies/consistent-hash.js'
export { POLICY_NAMES, type PolicyOptions } from './policies/index.js'
export type * from './types.js'
export * from './sim/index.js'
