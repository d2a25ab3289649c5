import type { ReplicatedLog } from '@synod/interfaces'

/**
 * A view of a shared ReplicatedLog for one machine of a mux: proposals get the machine's tag byte
 * in front, and results are typed as that machine's. Everything else is the shared log's.
 */
export function createTaggedLog<Result> (log: ReplicatedLog<unknown>, tag: number): ReplicatedLog<Result> {
  return {
    get id () { return log.id },
    start: async () => { await log.start() },
    stop: async () => { await log.stop() },
    addEventListener: (type, listener, options) => { log.addEventListener(type, listener, options) },
    removeEventListener: (type, listener) => { log.removeEventListener(type, listener) },
    async propose (command, options) {
      const tagged = new Uint8Array(command.byteLength + 1)
      tagged[0] = tag
      tagged.set(command, 1)
      const committed = await log.propose(tagged, options)
      return { index: committed.index, term: committed.term, result: committed.result as Result }
    },
    readBarrier: async (options) => log.readBarrier(options),
    status: () => log.status(),
    isLeader: () => log.isLeader(),
    changeMembership: async (change, options) => log.changeMembership(change, options),
    transferLeadership: async (to, options) => { await log.transferLeadership(to, options) },
    snapshot: async (options) => log.snapshot(options)
  }
}
