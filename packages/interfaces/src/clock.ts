/** An opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown

/**
 * Time, injected. Production uses the system monotonic clock; the simulator uses virtual time, so a
 * seeded run replays exactly. Deterministic cores never call a Clock: they are driven by `tick()`.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock. Only differences are meaningful. */
  now(): number
  /** Runs `callback` after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void
}
