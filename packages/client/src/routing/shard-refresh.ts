import { AbortError, StoppedError, type AbortOptions, type Clock } from '@synod/interfaces'
import { raceSignal } from '../retry/signals.js'
import type { ShardMapView } from './shard-map.js'

/** Fetches a map, asking `prefer` first when given. Rejects when no node answered. */
export type ShardMapFetch = (signal: AbortSignal, prefer: string | undefined) => Promise<ShardMapView>

export interface ShardMapRefresherInit {
  fetch: ShardMapFetch
  /** Receives every fetched map, in the order the fetches finish. */
  apply: (map: ShardMapView) => void
  /** A background refresh failed (nobody waits for it). */
  onBackgroundError: (error: unknown) => void
  /** Shortest time between two automatic refreshes; doubles after each failed one, up to 64 times. */
  minIntervalMs: number
}

interface Flight {
  promise: Promise<void>
  readonly controller: AbortController
  /** Callers awaiting this flight; when the last one gives up, the fetch is cancelled... */
  waiters: number
  /** ...unless a background refresh also wants it. */
  background: boolean
}

const MAX_BACKOFF_DOUBLINGS = 6
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

/**
 * Single-flight, rate-limited fetches of the shard map. Every caller who wants a map while one is
 * being fetched shares that fetch, so a burst of redirects after a rebalance costs one request.
 * Automatic refreshes (redirects, lazy discovery) start at most once per interval, the interval
 * doubling while fetches fail; a refresh wanted too soon runs when the interval ends. An explicit
 * `refresh()` is never delayed. Each caller's signal ends only that caller's wait.
 */
export class ShardMapRefresher {
  readonly #init: ShardMapRefresherInit
  readonly #clock: Clock
  #flight: Flight | undefined
  #lastStart = Number.NEGATIVE_INFINITY
  #failures = 0
  #timer: unknown
  #timerPrefer: string | undefined
  #closed = false

  constructor (init: ShardMapRefresherInit, clock: Clock) {
    this.#init = init
    this.#clock = clock
  }

  get inFlight (): boolean { return this.#flight !== undefined }

  /** Whether an automatic refresh may start now. */
  mayStart (): boolean {
    const interval = this.#init.minIntervalMs * 2 ** Math.min(this.#failures, MAX_BACKOFF_DOUBLINGS)
    return this.#clock.now() - this.#lastStart >= interval
  }

  /**
   * Joins the fetch in flight or starts one. Resolves once a map was applied; rejects with the
   * fetch's error, or `ERR_ABORTED` when `signal` fires (the fetch goes on if others wait for it).
   */
  async refresh (options: AbortOptions & { prefer?: string | undefined } = {}): Promise<void> {
    if (this.#closed) throw new StoppedError('client closed')
    const signal = options.signal
    if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
    const flight = this.#flight ?? this.#start(options.prefer, false)
    flight.waiters++
    try {
      await raceSignal(flight.promise, signal)
    } finally {
      flight.waiters--
      if (flight.waiters === 0 && !flight.background && this.#flight === flight && isAborted(signal)) {
        flight.controller.abort(signal?.reason)
      }
    }
  }

  /** Wants a fresh map without waiting for it: now if the rate limit allows, else when it does. */
  refreshSoon (prefer?: string): void {
    if (this.#closed) return
    if (this.#flight !== undefined) {
      this.#flight.background = true
      return
    }
    if (this.mayStart()) {
      this.#start(prefer, true)
      return
    }
    this.#timerPrefer = prefer ?? this.#timerPrefer
    if (this.#timer !== undefined) return
    const interval = this.#init.minIntervalMs * 2 ** Math.min(this.#failures, MAX_BACKOFF_DOUBLINGS)
    const wait = Math.max(0, this.#lastStart + interval - this.#clock.now())
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      const preferred = this.#timerPrefer
      this.#timerPrefer = undefined
      if (this.#closed || this.#flight !== undefined) return
      this.#start(preferred, true)
    }, wait)
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#flight?.controller.abort(new StoppedError('client closed'))
  }

  #start (prefer: string | undefined, background: boolean): Flight {
    const controller = new AbortController()
    const previousStart = this.#lastStart
    this.#lastStart = this.#clock.now()
    const run = async (): Promise<void> => {
      try {
        const map = await this.#init.fetch(controller.signal, prefer)
        this.#failures = 0
        // Done before applying, so that what `apply` asks for starts a new refresh.
        if (this.#flight === flight) this.#flight = undefined
        if (!this.#closed) this.#init.apply(map)
      } catch (error) {
        // A fetch cancelled because every caller gave up says nothing about the cluster: the next
        // caller may ask at once.
        if (controller.signal.aborted) this.#lastStart = previousStart
        else this.#failures++
        if (flight.background && flight.waiters === 0) this.#init.onBackgroundError(error)
        throw error
      } finally {
        if (this.#flight === flight) this.#flight = undefined
      }
    }
    // Recorded before the fetch starts, so that even a fetch failing at once finds its flight.
    const flight: Flight = { promise: Promise.resolve(), controller, waiters: 0, background }
    this.#flight = flight
    flight.promise = run()
    // Background flights have no one to hand their failure to but the logger.
    flight.promise.catch(() => {})
    return flight
  }
}
