import { SynodError } from '@synod/interfaces'

/**
 * A simulated run failed: an invariant broke, an event callback threw, a spawned task rejected, or
 * the workload called `sim.fail()`. The run's seed replays it.
 */
export class SimulationFailedError extends SynodError {
  static override readonly code = 'ERR_SIMULATION_FAILED'
  /** The run's seed. */
  readonly seed: number
  /** Virtual time of the failure in milliseconds. */
  readonly time: number

  constructor (message: string, init: { seed: number, time: number, cause?: unknown }) {
    super(message, SimulationFailedError.code, { cause: init.cause })
    this.name = 'SimulationFailedError'
    this.seed = init.seed
    this.time = init.time
  }
}

/**
 * A manual clock's `advance()` fired more timers than its bound allows: some callback keeps setting
 * timers due inside the window (typically 0 ms timers that re-arm themselves), so time could never
 * reach the end of the window.
 */
export class RunawayTimersError extends SynodError {
  static override readonly code = 'ERR_RUNAWAY_TIMERS'
  /** Timers fired in the `advance()` call that gave up. */
  readonly fired: number
  /** The clock's reading when it gave up. */
  readonly time: number

  constructor (fired: number, time: number) {
    super(`advance() fired ${fired} timers and more are still due inside the window (clock at ${time} ms): a callback keeps re-arming timers`, RunawayTimersError.code)
    this.name = 'RunawayTimersError'
    this.fired = fired
    this.time = time
  }
}
