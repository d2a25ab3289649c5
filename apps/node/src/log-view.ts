import type { ReplicatedLog } from '@synod/interfaces'

/**
 * A view of `log` with its own `propose`; everything else is the log's. The node's tagged logs and
 * the proposal timer are both such views.
 */
export function logWithPropose<Out, In = unknown> (log: ReplicatedLog<In>, propose: ReplicatedLog<Out>['propose']): ReplicatedLog<Out> {
  return {
    get id () { return log.id },
    start: async () => { await log.start() },
    stop: async () => { await log.stop() },
    addEventListener: (type, listener, options) => { log.addEventListener(type, listener, options) },
    removeEventListener: (type, listener) => { log.removeEventListener(type, listener) },
    propose,
    readBarrier: async (options) => await log.readBarrier(options),
    status: () => log.status(),
    isLeader: () => log.isLeader(),
    changeMembership: async (change, options) => await log.changeMembership(change, options),
    transferLeadership: async (to, options) => { await log.transferLeadership(to, options) },
    snapshot: async (options) => await log.snapshot(options)
  }
}
