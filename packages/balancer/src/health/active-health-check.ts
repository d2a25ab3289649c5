import type { AbortOptions, Clock, Random, TimerHandle } from '@synod/interfaces'
import type { EndpointState } from '../endpoint-state.js'
import type { Endpoint } from '../types.js'

/**
 * Checks an endpoint out of band. Resolve `true` (or nothing) for healthy; resolve `false` or reject
 * for unhealthy. It is aborted through `signal` when it exceeds `timeoutMs`.
 */
export type HealthProbe = (endpoint: Endpoint, options: AbortOptions) => Promise<boolean | undefined | void>

/** Active health checking (Envoy `health_checks`): probes every endpoint on a timer. Needs `start()`. */
export interface HealthCheckOptions {
  /** The check itself: an HTTP GET, a Raft status RPC, a TCP connect... */
  probe: HealthProbe
  /**
   * Time between the end of one probe and the start of the next, per endpoint.
   * @default 5000
   */
  intervalMs?: number
  /**
   * A probe that takes longer fails and is aborted.
   * @default 1000
   */
  timeoutMs?: number
  /**
   * Failed probes in a row that mark an endpoint unhealthy.
   * @default 3
   */
  unhealthyThreshold?: number
  /**
   * Passed probes in a row that mark an unhealthy endpoint healthy again.
   * @default 2
   */
  healthyThreshold?: number
  /**
   * Each interval is stretched by a random share up to this, so probes of many clients do not align.
   * @default 0.1
   */
  jitterShare?: number
}

/** Called when a probe flips an endpoint's verdict. */
export type HealthTransition = (state: EndpointState, healthy: boolean) => void

interface Schedule { timer: TimerHandle, controller: AbortController | undefined }

/** Runs one probe loop per endpoint on the injected clock. */
export class ActiveHealthChecker {
  readonly #options: Required<HealthCheckOptions>
  readonly #clock: Clock
  readonly #random: Random
  readonly #onTransition: HealthTransition
  readonly #schedules = new Map<EndpointState, Schedule>()
  #running = false

  constructor (options: HealthCheckOptions, clock: Clock, random: Random, onTransition: HealthTransition) {
    this.#options = {
      probe: options.probe,
      intervalMs: options.intervalMs ?? 5000,
      timeoutMs: options.timeoutMs ?? 1000,
      unhealthyThreshold: options.unhealthyThreshold ?? 3,
      healthyThreshold: options.healthyThreshold ?? 2,
      jitterShare: options.jitterShare ?? 0.1
    }
    this.#clock = clock
    this.#random = random
    this.#onTransition = onTransition
  }

  start (states: Iterable<EndpointState>): void {
    if (this.#running) return
    this.#running = true
    for (const state of states) this.watch(state)
  }

  stop (): void {
    this.#running = false
    for (const state of [...this.#schedules.keys()]) this.unwatch(state)
  }

  /** Starts probing `state` (first probe right away) if the checker is running. */
  watch (state: EndpointState): void {
    if (!this.#running || this.#schedules.has(state)) return
    const schedule: Schedule = { timer: undefined, controller: undefined }
    this.#schedules.set(state, schedule)
    this.#arm(state, schedule, 0)
  }

  unwatch (state: EndpointState): void {
    const schedule = this.#schedules.get(state)
    if (schedule === undefined) return
    this.#schedules.delete(state)
    if (schedule.timer !== undefined) this.#clock.clearTimeout(schedule.timer)
    schedule.controller?.abort()
  }

  #arm (state: EndpointState, schedule: Schedule, delayMs: number): void {
    schedule.timer = this.#clock.setTimeout(() => {
      schedule.timer = undefined
      void this.#probeOnce(state, schedule)
    }, delayMs)
  }

  async #probeOnce (state: EndpointState, schedule: Schedule): Promise<void> {
    const controller = new AbortController()
    schedule.controller = controller
    let timedOut = false
    const timeout = this.#clock.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.#options.timeoutMs)
    let passed: boolean
    try {
      const verdict = await Promise.race([
        this.#options.probe(state, { signal: controller.signal }),
        new Promise<false>((resolve) => { controller.signal.addEventListener('abort', () => { resolve(false) }, { once: true }) })
      ])
      passed = verdict !== false && !timedOut
    } catch {
      passed = false
    } finally {
      this.#clock.clearTimeout(timeout)
      schedule.controller = undefined
    }
    // Unwatched (removed, or checker stopped) while the probe ran: the verdict no longer matters.
    if (this.#schedules.get(state) !== schedule) return
    this.#record(state, passed)
    const jitter = this.#options.intervalMs * this.#options.jitterShare * this.#random.next()
    this.#arm(state, schedule, this.#options.intervalMs + jitter)
  }

  #record (state: EndpointState, passed: boolean): void {
    if (passed) {
      state.probeFailuresInRow = 0
      state.probeSuccessesInRow++
      if (!state.healthy && state.probeSuccessesInRow >= this.#options.healthyThreshold) this.#onTransition(state, true)
    } else {
      state.probeSuccessesInRow = 0
      state.probeFailuresInRow++
      if (state.healthy && state.probeFailuresInRow >= this.#options.unhealthyThreshold) this.#onTransition(state, false)
    }
  }
}
