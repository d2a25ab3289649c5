import type { Clock, TimerHandle } from '@synod/interfaces'

/**
 * A group's clock that can be stopped. While paused, time stands still for the group: `now()`
 * does not advance and no timer fires; on `resume()` time continues from where it stopped and the
 * timers fire after the time they still had left.
 *
 * This is how a quiesced Raft group stops ticking without a change to the Raft driver: the driver
 * schedules its ticks on the injected clock and counts ticks from `now()`, so a paused clock means
 * no tick callbacks at all, and on resume no burst of catch-up ticks (which would fire every
 * election timer at once).
 */
export interface PausableClock extends Clock {
  readonly paused: boolean
  pause(): void
  resume(): void
  /** Timers waiting to fire (armed or parked). */
  pendingTimers(): number
}

interface Timer {
  callback: () => void
  /** When it fires, on this clock's own (paused-time-free) timeline. */
  due: number
  /** The base clock's timer while armed; undefined while parked. */
  armed: TimerHandle
}

export function createPausableClock (base: Clock): PausableClock {
  const timers = new Set<Timer>()
  let pausedTotal = 0
  let pausedAt: number | undefined

  const now = (): number => (pausedAt ?? base.now()) - pausedTotal

  const arm = (timer: Timer): void => {
    timer.armed = base.setTimeout(() => {
      timer.armed = undefined
      if (!timers.delete(timer)) return
      timer.callback()
    }, Math.max(0, timer.due - now()))
  }

  return {
    now,
    setTimeout (callback, ms) {
      const timer: Timer = { callback, due: now() + ms, armed: undefined }
      timers.add(timer)
      if (pausedAt === undefined) arm(timer)
      return timer
    },
    clearTimeout (handle) {
      const timer = handle as Timer
      if (!timers.delete(timer)) return
      if (timer.armed !== undefined) base.clearTimeout(timer.armed)
      timer.armed = undefined
    },
    get paused () {
      return pausedAt !== undefined
    },
    pause () {
      if (pausedAt !== undefined) return
      pausedAt = base.now()
      for (const timer of timers) {
        if (timer.armed !== undefined) base.clearTimeout(timer.armed)
        timer.armed = undefined
      }
    },
    resume () {
      if (pausedAt === undefined) return
      pausedTotal += base.now() - pausedAt
      pausedAt = undefined
      for (const timer of timers) arm(timer)
    },
    pendingTimers: () => timers.size
  }
}
