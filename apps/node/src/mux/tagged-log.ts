import type { ReplicatedLog } from '@synod/interfaces'
import { logWithPropose } from '../log-view.js'

/**
 * A view of a shared ReplicatedLog for one machine of a mux: proposals get the machine's tag byte
 * in front, and results are typed as that machine's. Everything else is the shared log's.
 */
export function createTaggedLog<Result> (log: ReplicatedLog<unknown>, tag: number): ReplicatedLog<Result> {
  return logWithPropose<Result>(log, async (command, options) => {
    const tagged = new Uint8Array(command.byteLength + 1)
    tagged[0] = tag
    tagged.set(command, 1)
    const committed = await log.propose(tagged, options)
    return { index: committed.index, term: committed.term, result: committed.result as Result }
  })
}
