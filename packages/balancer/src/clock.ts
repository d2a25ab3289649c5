import type { Clock, TimerHandle } from '@synod/interfaces'

/**
 * The process's monotonic clock (`performance.now()`), with timers that do not keep the process
 * alive: a balancer's health checks should never be the reason a program cannot exit.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return timer
  },
  clearTimeout: (handle: TimerHandle): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  }
}
