import {
  AbortError, InvalidArgumentError, TypedEventEmitter, isSynodError, throwIfAborted,
  type Clock, type Logger, type Random, type TimerHandle
} from '@synod/interfaces'
import { systemClock } from './clock.js'
import { EndpointState } from './endpoint-state.js'
import { NoEndpointError } from './errors.js'
import { ActiveHealthChecker, type HealthCheckOptions } from './health/active-health-check.js'
import {
  ejectionDuration, mayEject, resolveOutlierDetection, successRateOutliers,
  type OutlierConfig, type OutlierDetectionOptions
} from './health/outlier-detection.js'
import { createPolicy, type PolicyOptions } from './policies/index.js'
import { SelectionContext, type Policy } from './policies/policy.js'
import { createEntropyRandom } from './random.js'
import { createRetryBudget, type RetryBudget, type RetryBudgetOptions } from './retry-budget.js'
import { beginSlowStart, resolveSlowStart, slowStartFactor, type SlowStartConfig, type SlowStartOptions } from './slow-start.js'
import type {
  AttemptContext, Balancer, BalancerEvents, EjectionReason, Endpoint, EndpointInit, EndpointSnapshot,
  Outcome, PickHandle, PickOptions, PolicyName, RunOptions
} from './types.js'

/** How to build a balancer. */
export interface BalancerInit extends PolicyOptions {
  /** The selection rule. */
  policy: PolicyName
  /**
   * Endpoints to start with. They take traffic at full weight at once; endpoints added later warm up
   * through slow start.
   * @default []
   */
  endpoints?: EndpointInit[]
  /**
   * Passive outlier detection, or false to disable it.
   * @default { consecutiveFailures: 5, intervalMs: 10000, baseEjectionMs: 30000, maxEjectionMs: 300000, maxEjectedShare: 0.5 }
   */
  outlierDetection?: OutlierDetectionOptions | false
  /**
   * Active health checks; none when absent.
   * @default undefined
   */
  healthCheck?: HealthCheckOptions
  /**
   * Slow start for added and recovered endpoints, or false to disable it.
   * @default { windowMs: 30000, aggression: 1, minWeightShare: 0.1 }
   */
  slowStart?: SlowStartOptions | false
  /**
   * The budget `run` spends retries from.
   * @default { retryRatio: 0.2, minRetriesPerSecond: 10, windowMs: 10000 }
   */
  retryBudget?: RetryBudgetOptions
  /**
   * When fewer than this share of endpoints is available (not ejected, healthy), route to all of
   * them anyway (Envoy's panic mode): better to try a suspect endpoint than to fail every request.
   * @default 0.5
   */
  panicThreshold?: number
  /**
   * Whether an error thrown inside `run` is the endpoint's fault (counts toward ejection and may be
   * retried) or a regular answer such as "key not found" (counts as a success).
   * @default every error is a failure
   */
  isFailure?: (error: unknown) => boolean
  /**
   * Whether a failed attempt may be retried elsewhere. Say false for requests that are not idempotent.
   * @default every failure is retryable
   */
  isRetryable?: (error: unknown) => boolean
}

/** What the balancer needs from its environment. */
export interface BalancerComponents {
  /**
   * Time source for latency, ejection and slow-start windows, health-check timers.
   * @default the monotonic system clock, with timers that do not keep the process alive
   */
  clock?: Clock
  /**
   * Randomness for the random and P2C policies and health-check jitter. Seed it to replay a run.
   * @default a generator seeded from `crypto.getRandomValues`
   */
  random?: Random
  /**
   * Receives ejection and health transitions.
   * @default no logging
   */
  logger?: Logger
}

/** Creates a balancer. */
export function createBalancer (init: BalancerInit, components: BalancerComponents = {}): Balancer {
  return new DefaultBalancer(init, components)
}

class Handle implements PickHandle {
  readonly endpoint: Endpoint
  completed = false
  readonly #balancer: DefaultBalancer
  readonly #startedAt: number

  constructor (balancer: DefaultBalancer, state: EndpointState, startedAt: number) {
    this.endpoint = state
    this.#balancer = balancer
    this.#startedAt = startedAt
  }

  complete (outcome: Outcome, latencyMs?: number): void {
    if (this.completed) return
    this.completed = true
    this.#balancer.completePick(this.endpoint as EndpointState, outcome, this.#startedAt, latencyMs)
  }
}

class DefaultBalancer extends TypedEventEmitter<BalancerEvents> implements Balancer {
  readonly policy: PolicyName
  readonly #policy: Policy
  readonly #clock: Clock
  readonly #logger: Logger | undefined
  readonly #context: SelectionContext
  readonly #slowStart: SlowStartConfig
  readonly #outlier: OutlierConfig | undefined
  readonly #healthChecker: ActiveHealthChecker | undefined
  readonly #retryBudget: RetryBudget
  readonly #panicThreshold: number
  readonly #isFailure: (error: unknown) => boolean
  readonly #isRetryable: (error: unknown) => boolean

  readonly #states: EndpointState[] = []
  readonly #byId = new Map<string, EndpointState>()
  /** Endpoints policies choose from; rebuilt lazily when availability or membership changes. */
  #candidates: EndpointState[] = []
  #candidatesStale = true
  #ejectedCount = 0
  /** Earliest end of a current ejection; Infinity when nothing is ejected. */
  #nextRestoreAt = Infinity
  /** Latest end of a slow-start window; the clock is only read on the hot path before then. */
  #slowStartEndsAt = -Infinity
  #intervalTimer: TimerHandle = undefined
  #started = false

  constructor (init: BalancerInit, components: BalancerComponents) {
    super()
    this.#clock = components.clock ?? systemClock
    this.#logger = components.logger?.child({ component: 'balancer' })
    this.#slowStart = resolveSlowStart(init.slowStart)
    this.#context = new SelectionContext(components.random ?? createEntropyRandom(), this.#slowStart)
    this.#policy = createPolicy(init.policy, init)
    this.policy = this.#policy.name
    this.#outlier = resolveOutlierDetection(init.outlierDetection)
    this.#retryBudget = createRetryBudget(init.retryBudget, { clock: this.#clock })
    this.#panicThreshold = init.panicThreshold ?? 0.5
    this.#isFailure = init.isFailure ?? (() => true)
    this.#isRetryable = init.isRetryable ?? (() => true)
    if (init.healthCheck !== undefined) {
      this.#healthChecker = new ActiveHealthChecker(init.healthCheck, this.#clock, this.#context.random, (state, healthy) => {
        this.#setHealth(state, healthy)
      })
    }
    for (const endpoint of init.endpoints ?? []) this.#insert(endpoint, false)
    this.#policy.membershipChanged?.(this.#states)
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    if (this.#outlier !== undefined) this.#armInterval(this.#outlier.intervalMs)
    this.#healthChecker?.start(this.#states)
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#intervalTimer !== undefined) this.#clock.clearTimeout(this.#intervalTimer)
    this.#intervalTimer = undefined
    this.#healthChecker?.stop()
  }

  pick (options?: PickOptions): PickHandle {
    if (this.#states.length === 0) throw new NoEndpointError()
    const context = this.#context
    let now = Number.NaN
    if (this.#policy.usesClock || this.#nextRestoreAt !== Infinity || this.#slowStartEndsAt !== -Infinity) {
      now = this.#clock.now()
      if (now >= this.#nextRestoreAt) this.#restoreDue(now)
      if (now >= this.#slowStartEndsAt) this.#slowStartEndsAt = -Infinity
    }
    context.now = now
    context.warming = this.#slowStartEndsAt !== -Infinity
    context.key = options?.key
    const state = this.#policy.select(this.#candidatesExcluding(options?.exclude), context)
    state.inFlight++
    return new Handle(this, state, now)
  }

  /** Internal: the end of a pick. Called once per handle. */
  completePick (state: EndpointState, outcome: Outcome, startedAt: number, latencyMs: number | undefined): void {
    state.inFlight--
    this.#policy.released?.(state)
    if (outcome === 'cancelled' || state.removed) return
    state.completed++
    if (this.#policy.observe !== undefined) {
      const now = this.#clock.now()
      this.#policy.observe(state, latencyMs ?? now - startedAt, now, outcome === 'failure')
    }
    if (outcome === 'success') {
      state.consecutiveFailures = 0
      state.intervalSuccesses++
      return
    }
    state.failures++
    state.intervalFailures++
    state.consecutiveFailures++
    const outlier = this.#outlier
    if (outlier !== undefined && outlier.consecutiveFailures > 0 && !state.ejected &&
      state.consecutiveFailures >= outlier.consecutiveFailures) {
      this.#eject(state, 'consecutive-failures', this.#clock.now())
    }
  }

  async run<T>(fn: (endpoint: Endpoint, context: AttemptContext) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, key } = options
    const maxAttempts = options.maxAttempts ?? 1
    throwIfAborted(signal)
    this.#retryBudget.deposit()
    let tried: Set<string> | undefined
    for (let attempt = 1; ; attempt++) {
      const handle = this.pick({ key, exclude: tried ?? options.exclude })
      try {
        const value = await attemptOnce(fn, handle.endpoint, attempt, signal)
        handle.complete('success')
        return value
      } catch (error) {
        if (signal?.aborted === true) {
          handle.complete('cancelled')
          throw isSynodError(error, AbortError.code) ? error : new AbortError(undefined, { cause: signal.reason, indeterminate: true })
        }
        const failure = this.#isFailure(error)
        handle.complete(failure ? 'failure' : 'success')
        if (!failure || attempt >= maxAttempts || !this.#isRetryable(error) || !this.#retryBudget.tryWithdraw()) throw error
        tried ??= new Set(options.exclude)
        tried.add(handle.endpoint.id)
      }
    }
  }

  add (endpoint: EndpointInit): void {
    this.#insert(endpoint, true)
    this.#policy.membershipChanged?.(this.#states)
    this.emit('endpoint:added', { id: endpoint.id })
  }

  remove (id: string): boolean {
    const state = this.#byId.get(id)
    if (state === undefined) return false
    state.removed = true
    this.#byId.delete(id)
    this.#states.splice(this.#states.indexOf(state), 1)
    if (state.ejected) {
      state.ejected = false
      this.#ejectedCount--
    }
    this.#healthChecker?.unwatch(state)
    this.#candidatesStale = true
    this.#policy.membershipChanged?.(this.#states)
    this.emit('endpoint:removed', { id })
    this.#enforceEjectionCap()
    return true
  }

  endpoints (): EndpointSnapshot[] {
    const now = this.#clock.now()
    return this.#states.map((state) => ({
      id: state.id,
      address: state.address,
      weight: state.weight,
      inFlight: state.inFlight,
      ejected: state.ejected,
      ejectedUntil: state.ejected ? state.ejectedUntil : undefined,
      ejectionCount: state.ejectionCount,
      healthy: state.healthy,
      slowStartFactor: this.#slowStart.windowMs > 0 ? slowStartFactor(state, this.#slowStart, now) : 1,
      latencyEstimateMs: state.latencyEstimateMs,
      completed: state.completed,
      failures: state.failures
    }))
  }

  private emit<K extends keyof BalancerEvents>(type: K, detail: BalancerEvents[K]): void {
    this.safeDispatch(type, detail)
  }

  #insert (endpoint: EndpointInit, warmUp: boolean): void {
    const weight = endpoint.weight ?? 1
    if (typeof endpoint.id !== 'string' || endpoint.id === '') throw new InvalidArgumentError('endpoint id must be a non-empty string', { field: 'id' })
    if (this.#byId.has(endpoint.id)) throw new InvalidArgumentError(`endpoint ${endpoint.id} already exists`, { field: 'id' })
    if (!(weight > 0) || !Number.isFinite(weight)) throw new InvalidArgumentError(`endpoint ${endpoint.id} has weight ${weight}; it must be a positive number`, { field: 'weight' })
    const state = new EndpointState(endpoint.id, endpoint.address, weight)
    if (warmUp) this.#warmUp(state, this.#clock.now())
    this.#states.push(state)
    this.#byId.set(state.id, state)
    this.#candidatesStale = true
    this.#healthChecker?.watch(state)
  }

  #candidatesExcluding (exclude: ReadonlySet<string> | undefined): EndpointState[] {
    if (this.#candidatesStale) this.#rebuildCandidates()
    if (exclude === undefined || exclude.size === 0) return this.#candidates
    const remaining = this.#candidates.filter((state) => !exclude.has(state.id))
    return remaining.length > 0 ? remaining : this.#candidates
  }

  #rebuildCandidates (): void {
    const available = this.#states.filter((state) => state.available)
    const panic = available.length === 0 || available.length < this.#panicThreshold * this.#states.length
    this.#candidates = panic ? this.#states.slice() : available
    this.#candidatesStale = false
    this.#policy.candidatesChanged?.(this.#candidates)
  }

  #warmUp (state: EndpointState, now: number): void {
    beginSlowStart(state, this.#slowStart, now)
    if (state.slowStartUntil > this.#slowStartEndsAt && this.#slowStart.windowMs > 0) this.#slowStartEndsAt = state.slowStartUntil
  }

  #eject (state: EndpointState, reason: EjectionReason, now: number): boolean {
    const outlier = this.#outlier
    if (outlier === undefined || !mayEject(this.#ejectedCount, this.#states.length, outlier)) return false
    const until = now + ejectionDuration(state, outlier)
    state.ejectionCount++
    state.ejected = true
    state.ejectedUntil = until
    this.#ejectedCount++
    if (until < this.#nextRestoreAt) this.#nextRestoreAt = until
    this.#candidatesStale = true
    this.#logger?.warn({ endpoint: state.id, reason, until, ejectionCount: state.ejectionCount }, 'endpoint ejected')
    this.emit('endpoint:ejected', { id: state.id, reason, until, ejectionCount: state.ejectionCount })
    return true
  }

  /** Brings back every endpoint whose ejection has ended by `now`. */
  #restoreDue (now: number): void {
    let next = Infinity
    for (const state of this.#states) {
      if (!state.ejected) continue
      if (state.ejectedUntil <= now) this.#restore(state, now)
      else if (state.ejectedUntil < next) next = state.ejectedUntil
    }
    this.#nextRestoreAt = next
  }

  #restore (state: EndpointState, now: number): void {
    state.ejected = false
    state.consecutiveFailures = 0
    state.intervalSuccesses = 0
    state.intervalFailures = 0
    this.#ejectedCount--
    this.#recover(state, now)
    this.#logger?.info({ endpoint: state.id }, 'endpoint restored')
    this.emit('endpoint:restored', { id: state.id })
  }

  /** An endpoint back from ejection or failed health checks starts afresh and warms up. */
  #recover (state: EndpointState, now: number): void {
    this.#policy.reset?.(state, now)
    this.#warmUp(state, now)
    this.#candidatesStale = true
  }

  /** After a removal the cap `floor(n × share)` may be lower than the ejected count: restore the soonest due. */
  #enforceEjectionCap (): void {
    const outlier = this.#outlier
    if (outlier === undefined) return
    const now = this.#clock.now()
    while (this.#ejectedCount > Math.floor(this.#states.length * outlier.maxEjectedShare)) {
      let soonest: EndpointState | undefined
      for (const state of this.#states) {
        if (state.ejected && (soonest === undefined || state.ejectedUntil < soonest.ejectedUntil)) soonest = state
      }
      if (soonest === undefined) break
      this.#restore(soonest, now)
    }
    this.#restoreDue(now)
  }

  #setHealth (state: EndpointState, healthy: boolean): void {
    state.healthy = healthy
    if (healthy) this.#recover(state, this.#clock.now())
    this.#candidatesStale = true
    this.#logger?.info({ endpoint: state.id, healthy }, 'health check verdict changed')
    this.emit(healthy ? 'endpoint:healthy' : 'endpoint:unhealthy', { id: state.id })
  }

  #armInterval (intervalMs: number): void {
    this.#intervalTimer = this.#clock.setTimeout(() => {
      this.#onInterval()
      if (this.#started) this.#armInterval(intervalMs)
    }, intervalMs)
  }

  /** Envoy's outlier-detection interval: decay ejection counts, restore due endpoints, judge success rates. */
  #onInterval (): void {
    const outlier = this.#outlier
    if (outlier === undefined) return
    const now = this.#clock.now()
    // An interval spent in rotation without a failure earns back one step of the exponential
    // ejection time. Judged before restoring, so coming back is not itself a quiet interval.
    for (const state of this.#states) {
      if (!state.ejected && state.ejectionCount > 0 && state.intervalFailures === 0) state.ejectionCount--
    }
    this.#restoreDue(now)
    for (const { state, reason } of successRateOutliers(this.#states, outlier)) {
      if (!this.#eject(state, reason, now)) break
    }
    for (const state of this.#states) {
      state.intervalSuccesses = 0
      state.intervalFailures = 0
    }
  }
}

/** Calls `fn` and settles early, with `ERR_ABORTED`, if `signal` fires first. */
async function attemptOnce<T>(fn: (endpoint: Endpoint, context: AttemptContext) => Promise<T>, endpoint: Endpoint, attempt: number, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return fn(endpoint, { attempt })
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new AbortError(undefined, { cause: signal.reason, indeterminate: true })) }
    signal.addEventListener('abort', onAbort, { once: true })
    const settle = (): void => { signal.removeEventListener('abort', onAbort) }
    Promise.resolve()
      .then(async () => fn(endpoint, { signal, attempt }))
      .then((value) => { settle(); resolve(value) }, (error: Error) => { settle(); reject(error) })
  })
}
