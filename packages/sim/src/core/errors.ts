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
