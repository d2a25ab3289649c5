import type { Clock, TimerHandle } from '@synod/interfaces'

/** A clock that moves only when told to: `advance(ms)` fires every timer due by then. */
export function manualClock (): Clock & { advance(ms: number): void } {
  let now = 0
  let timers: Array<{ at: number, callback: () => void }> = []
  return {
    now: () => now,
    setTimeout: (callback, ms): TimerHandle => {
      const timer = { at: now + ms, callback }
      timers.push(timer)
      return timer
    },
    clearTimeout: (handle) => { timers = timers.filter((t) => t !== handle) },
    advance (ms) {
      now += ms
      const due = timers.filter((t) => t.at <= now)
      timers = timers.filter((t) => t.at > now)
      for (const timer of due) timer.callback()
    }
  }
}

/** One turn of the event loop: lets the node's queued I/O callbacks run. */
export const turn = async (): Promise<void> => { await new Promise((resolve) => { setImmediate(resolve) }) }
