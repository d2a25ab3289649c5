import type { ReplicatedLog } from '@synod/interfaces'

/**
 * A view of `log` whose `propose` reports its latency (call to committed-and-applied) and outcome.
 * Everything else is the log's own.
 */
export function instrumentLog<Result> (log: ReplicatedLog<Result>, record: (ms: number, ok: boolean) => void): ReplicatedLog<Result> {
  return {
    get id () { return log.id },
    start: async () => { await log.start() },
    stop: async () => { await log.stop() },
    addEventListener: (type, listener, options) => { log.addEventListener(type, listener, options) },
    removeEventListener: (type, listener) => { log.removeEventListener(type, listener) },
    async propose (command, options) {
      const started = performance.now()
      try {
        const committed = await log.propose(command, options)
        record(performance.now() - started, true)
        return committed
      } catch (error) {
        record(performance.now() - started, false)
        throw error
      }
    },
    readBarrier: async (options) => await log.readBarrier(options),
    status: () => log.status(),
    isLeader: () => log.isLeader(),
    changeMembership: async (change, options) => await log.changeMembership(change, options),
    transferLeadership: async (to, options) => { await log.transferLeadership(to, options) },
    snapshot: async (options) => await log.snapshot(options)
  }
}
