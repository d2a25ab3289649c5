import { InvalidArgumentError, type Clock, type TimerHandle } from '@synod/interfaces'
import { EventQueue, type ScheduledEvent } from '../core/event-queue.js'
import { RunawayTimersError } from '../core/errors.js'

/** Options for {@link createManualClock}. */
export interface ManualClockOptions {
  /**
   * The reading of `now()` before the first `advance()`.
   * @default 0
   */
  start?: number
  /**
   * Most timers one `advance()` may fire. A callback that keeps setting 0 ms timers never lets
   * time reach the end of the window; past this bound `advance()` throws `ERR_RUNAWAY_TIMERS`
   * instead of hanging the test.
   * @default 100_000
   */
  maxFiringsPerAdvance?: number
}

/**
 * A `Clock` whose time moves only when a test calls `advance(ms)`. For unit tests of code that
 * takes an injected `Clock`, without a whole simulation: no event loop turns, no real time passes.
 */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms` (finite, non-negative), firing every timer due within the window,
   * synchronously, in order of due time (ties in the order they were set). While a timer fires,
   * `now()` reads its due time; timers its callback sets (or clears) inside the window are honoured
   * in the same call. Afterwards `now()` is the end of the window.
   *
   * If a callback throws, the error propagates: time stays at that timer's due time and the timers
   * not yet fired stay pending, so the test can look at the state and advance again.
   *
   * @returns the number of timers fired.
   * @throws ERR_RUNAWAY_TIMERS past `maxFiringsPerAdvance` firings in this call.
   * @throws ERR_INVALID_ARGUMENT for a negative or non-finite `ms`, or when called from inside a
   *   timer callback (move time from the test, not from the code under test).
   */
  advance(ms: number): number
  /** Timers set and neither fired nor cleared. */
  readonly pending: number
}

/**
 * Creates a {@link ManualClock}.
 *
 * `setTimeout` treats a negative or NaN delay as 0, like Node. Handles are opaque; clearing an
 * unknown, fired or already cleared handle does nothing.
 *
 * @example
 * ```ts
 * const clock = createManualClock()
 * clock.setTimeout(() => { console.log('fired at', clock.now()) }, 100)
 * clock.advance(99)  // nothing yet
 * clock.advance(1)   // fired at 100
 * ```
 */
export function createManualClock (options: ManualClockOptions = {}): ManualClock {
  const start = options.start ?? 0
  const maxFirings = options.maxFiringsPerAdvance ?? 100_000
  if (!Number.isFinite(start)) throw new InvalidArgumentError(`start must be finite, got ${start}`, { field: 'start' })
  if (!Number.isSafeInteger(maxFirings) || maxFirings < 1) {
    throw new InvalidArgumentError(`maxFiringsPerAdvance must be a positive integer, got ${maxFirings}`, { field: 'maxFiringsPerAdvance' })
  }
  // The simulator's (time, seq) heap: earliest due first, ties in the order they were set.
  const timers = new EventQueue()
  // Handles this clock made: a handle from another clock must not touch this queue's counts.
  const own = new WeakSet<ScheduledEvent>()
  let now = start
  let seq = 0
  let advancing = false

  return {
    now: () => now,

    setTimeout (callback: () => void, ms: number): TimerHandle {
      const delay = Number.isNaN(ms) || ms < 0 ? 0 : ms
      const timer: ScheduledEvent = { time: now + delay, seq: seq++, kind: 'timer', run: callback, cancelled: false }
      timers.push(timer)
      own.add(timer)
      return timer
    },

    clearTimeout (handle: TimerHandle): void {
      // The queue marks fired timers cancelled, so clearing one of those is a no-op.
      if (own.has(handle as ScheduledEvent)) timers.cancel(handle as ScheduledEvent)
    },

    advance (ms: number): number {
      if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError(`advance() needs a finite, non-negative ms, got ${ms}`, { field: 'ms' })
      if (advancing) throw new InvalidArgumentError('advance() was called from inside a timer callback', { field: 'ms' })
      const end = now + ms
      let fired = 0
      advancing = true
      try {
        for (let next = timers.peek(); next !== undefined && next.time <= end; next = timers.peek()) {
          if (fired === maxFirings) throw new RunawayTimersError(fired, now)
          timers.pop()
          now = Math.max(now, next.time)
          fired++
          next.run()
        }
      } finally {
        advancing = false
      }
      now = end
      return fired
    },

    get pending (): number {
      return timers.size
    }
  }
}
