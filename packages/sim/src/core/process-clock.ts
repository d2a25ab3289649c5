import type { Clock, TimerHandle } from '@synod/interfaces'
import type { ScheduledTask, Simulation } from './simulation.js'

/** Options for a simulated process's clock. */
export interface ProcessClockOptions {
  /**
   * How fast this process's clock runs relative to virtual time: 1.001 gains a millisecond every
   * second (clock drift, which lease-based protocols must tolerate). Timers follow the local clock.
   * @default 1
   */
  rate?: number
  /**
   * Added to the local reading (a clock that is simply set wrong). Only differences of `now()` are
   * meaningful to Synod code, so this shows up only in traces and absolute timestamps.
   * @default 0
   */
  offset?: number
}

/** A process's view of time: a `Clock` whose timers all die with the process. */
export interface ProcessClock extends Clock {
  /** Cancels every pending timer and ignores any set later: the process has crashed. */
  halt(): void
  /** Number of pending timers. */
  readonly pending: number
}

/** Creates a clock for one simulated process on top of the simulation's virtual time. */
export function createProcessClock (sim: Simulation, options: ProcessClockOptions = {}): ProcessClock {
  const rate = options.rate ?? 1
  const offset = options.offset ?? 0
  const timers = new Set<ScheduledTask>()
  let halted = false
  return {
    now: () => sim.now() * rate + offset,
    setTimeout (callback: () => void, ms: number): TimerHandle {
      if (halted) return undefined
      const task: ScheduledTask = sim.schedule(Math.max(0, ms) / rate, () => {
        timers.delete(task)
        callback()
      }, { kind: 'timer' })
      timers.add(task)
      return task
    },
    clearTimeout (handle: TimerHandle): void {
      const task = handle as ScheduledTask
      if (timers.delete(task)) task.cancel()
    },
    halt (): void {
      halted = true
      for (const task of timers) task.cancel()
      timers.clear()
    },
    get pending () {
      return timers.size
    }
  }
}
