import type { Clock, TimerHandle } from '@synod/interfaces'

/** The process's monotonic clock (`performance.now()`) and its timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle): void => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}
