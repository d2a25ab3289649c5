import type { AbortOptions, Startable, TypedEventTarget } from '@synod/interfaces'

/** An endpoint the balancer can route to, as given by the caller. */
export interface EndpointInit {
  /** Stable, unique identifier (a node id, `host:port`, ...). */
  id: string
  /**
   * Where to reach it. Opaque to the balancer; handed back with every pick.
   * @default undefined
   */
  address?: string | undefined
  /**
   * Relative capacity. Used by weighted round robin, least-request, the P2C policies and (as a
   * multiplier) by slow start. Round robin, random and consistent hash ignore it.
   * @default 1
   */
  weight?: number | undefined
}

/** An endpoint as the balancer hands it out. */
export interface Endpoint {
  readonly id: string
  readonly address: string | undefined
  readonly weight: number
}

/**
 * How a picked request ended.
 * - `success`: the endpoint answered; feeds latency and success statistics.
 * - `failure`: the endpoint failed (error, timeout, reset); feeds outlier detection.
 * - `cancelled`: the caller gave up (abort); releases the in-flight slot and teaches nothing.
 */
export type Outcome = 'success' | 'failure' | 'cancelled'

/**
 * One routed request. Complete it exactly once, whatever happens: the balancer counts the request
 * as in flight until then. Further calls to `complete` are ignored, so a `finally` is always safe.
 * Prefer `Balancer.run`, which completes the handle for you.
 */
export interface PickHandle {
  readonly endpoint: Endpoint
  /** True once `complete` has been called. */
  readonly completed: boolean
  /**
   * Reports the outcome. `latencyMs` overrides the latency the balancer measures with its clock
   * (from `pick()` to this call); pass it when you measured the request yourself.
   */
  complete(outcome: Outcome, latencyMs?: number): void
}

/** Options of `Balancer.pick`. */
export interface PickOptions {
  /**
   * Affinity key; only the consistent-hash policy uses it.
   * @default undefined (consistent hash then picks a random point of the ring)
   */
  key?: string | undefined
  /**
   * Endpoint ids to avoid (for example those already tried by this request). Ignored if it would leave nothing.
   * @default undefined
   */
  exclude?: ReadonlySet<string> | undefined
}

/** What `run` passes to the caller's function. */
export interface AttemptContext extends AbortOptions {
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number
}

/** Options of `Balancer.run`. */
export interface RunOptions extends PickOptions, AbortOptions {
  /**
   * Attempts in total, including the first. Retries go to endpoints not yet tried when possible and
   * each one must be allowed by the retry budget.
   * @default 1
   */
  maxAttempts?: number | undefined
}

/** A point-in-time view of one endpoint, for dashboards and tests. */
export interface EndpointSnapshot extends Endpoint {
  /** Requests picked and not yet completed. */
  inFlight: number
  /** False while outlier detection has ejected it. */
  ejected: boolean
  /** When the current ejection ends (clock milliseconds); undefined when not ejected. */
  ejectedUntil: number | undefined
  /** How many times it has been ejected (the ejection time grows with this). */
  ejectionCount: number
  /** Active health-check verdict. */
  healthy: boolean
  /** Weight multiplier in (0, 1] applied by slow start; 1 outside the slow-start window. */
  slowStartFactor: number
  /** Latency estimate of the peak-EWMA policy in milliseconds (0 before the first sample). */
  latencyEstimateMs: number
  /** Requests completed since it was added. */
  completed: number
  /** Of which failures. */
  failures: number
}

/** Why an endpoint was ejected. */
export type EjectionReason = 'consecutive-failures' | 'success-rate'

/** Events of a balancer. */
export interface BalancerEvents {
  'endpoint:added': { id: string }
  'endpoint:removed': { id: string }
  'endpoint:ejected': { id: string, reason: EjectionReason, until: number, ejectionCount: number }
  'endpoint:restored': { id: string }
  'endpoint:unhealthy': { id: string }
  'endpoint:healthy': { id: string }
}

/** The policies this package implements. */
export type PolicyName =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'random'
  | 'least-request'
  | 'p2c-least-request'
  | 'p2c-peak-ewma'
  | 'consistent-hash'

/**
 * Routes requests over a changing set of endpoints. `start()` arms the periodic work (success-rate
 * analysis, active health checks); picking works before it, with consecutive-failure ejection only.
 */
export interface Balancer extends Startable, TypedEventTarget<BalancerEvents> {
  /** The policy this balancer uses. */
  readonly policy: PolicyName
  /**
   * Chooses an endpoint and counts the request as in flight until the handle is completed.
   * Throws `ERR_NO_ENDPOINT` when there are no endpoints at all.
   */
  pick(options?: PickOptions): PickHandle
  /**
   * Picks, calls `fn`, completes the handle with the outcome and measured latency, and retries on
   * other endpoints within the retry budget. Rejects with `ERR_ABORTED` when `signal` fires.
   */
  run<T>(fn: (endpoint: Endpoint, context: AttemptContext) => Promise<T>, options?: RunOptions): Promise<T>
  /** Adds an endpoint (it warms up through slow start). Throws `ERR_INVALID_ARGUMENT` on a duplicate id. */
  add(endpoint: EndpointInit): void
  /** Removes an endpoint; handles already picked for it still complete safely. Returns false if unknown. */
  remove(id: string): boolean
  /** A snapshot of every endpoint. */
  endpoints(): EndpointSnapshot[]
}
