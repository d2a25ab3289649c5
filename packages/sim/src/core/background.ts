import type { Simulation } from './simulation.js'

/** Options for `runInBackground`. */
export interface BackgroundOptions {
  /**
   * Real milliseconds to sleep when nothing but timers is pending.
   * @default 1
   */
  idleMs?: number
}

/**
 * Drives `sim` from the real event loop: whenever a message, disk sync or task is pending, it runs
 * the simulation until quiet. This lets code outside the simulation simply `await` simulated I/O
 * (a compliance suite awaiting `log.append`, an interactive session). Timers alone do not wake it.
 *
 * Runs driven this way are deterministic only if the outside code is: when it acts depends on real
 * time. Returns a function that stops the driver (and resolves once it has stopped).
 */
export function runInBackground (sim: Simulation, options: BackgroundOptions = {}): () => Promise<void> {
  const idleMs = options.idleMs ?? 1
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      if (!sim.running && sim.failure === undefined) await sim.runUntilQuiet({ timeout: 1000 }).catch(() => {})
      await new Promise<void>((resolve) => { setTimeout(resolve, idleMs) })
    }
  })()
  return async () => {
    stopped = true
    await loop
  }
}
