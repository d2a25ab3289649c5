import type { ReplicatedLog } from '@synod/interfaces'
import { logWithPropose } from '../log-view.js'

/**
 * A view of `log` whose `propose` reports its latency (call to committed-and-applied) and outcome.
 * Everything else is the log's own.
 */
export function instrumentLog<Result> (log: ReplicatedLog<Result>, record: (ms: number, ok: boolean) => void): ReplicatedLog<Result> {
  return logWithPropose<Result, Result>(log, async (command, options) => {
    const started = performance.now()
    try {
      const committed = await log.propose(command, options)
      record(performance.now() - started, true)
      return committed
    } catch (error) {
      record(performance.now() - started, false)
      throw error
    }
  })
}
