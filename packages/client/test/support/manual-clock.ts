import type { Clock } from '@synod/interfaces'

/** A clock the test moves by hand. */
export function manualClock (): Clock & { advance: (ms: number) => void } {
  let now = 0
  const timers = new Map<number, { at: number, callback: () => void }>()
  let next = 0
  return {
    now: () => now,
    setTimeout: (callback, ms) => { timers.set(++next, { at: now + ms, callback }); return next },
    clearTimeout: (handle) => { timers.delete(handle as number) },
    advance (ms) {
      now += ms
      for (const [id, timer] of [...timers].sort(([, a], [, b]) => a.at - b.at)) {
        if (timer.at > now) continue
        timers.delete(id)
        timer.callback()
      }
    }
  }
}

