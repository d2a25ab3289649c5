import type { NodeId } from '@synod/interfaces'
import type { RaftMessage, Ready } from '../../src/core/index.js'
import { MemoryLog } from './memory-log.js'
import type { CoreOptions } from './network.js'
import { TestNode } from './network.js'
import { seededRandom } from './random.js'

export interface UnitOptions extends CoreOptions {
  /** Terms of the entries already in the log (index 1, 2, ...). */
  logTerms?: number[]
  term?: number
  vote?: NodeId | null
  commit?: number
  learners?: NodeId[]
  seed?: number
}

/** A single core with a durable in-memory log, for message-level unit tests. */
export function unitNode (id: NodeId, voters: NodeId[], options: UnitOptions = {}): TestNode {
  const { logTerms = [], term, vote = null, commit = 0, learners = [], seed = 1, ...core } = options
  const log = MemoryLog.withTerms(logTerms)
  const hardTerm = term ?? (log.term(log.lastIndex()) ?? 0)
  const hard = hardTerm > 0 || vote !== null ? { term: hardTerm, vote, commit } : undefined
  const all = [...voters, ...learners]
  const config = { voters, learners, addresses: Object.fromEntries(all.map((n) => [n, n])) }
  return new TestNode(id, log, { index: 0, term: 0, config }, core, seededRandom(seed), hard)
}

/** Runs one Ready cycle (persisting everything) and returns the messages it produced. */
export function flush (node: TestNode): RaftMessage[] {
  const out: RaftMessage[] = []
  for (let i = 0; i < 10 && node.core.hasReady(); i++) {
    const rd: Ready = node.core.ready()
    if (rd.entries.length > 0) node.log.append(rd.entries)
    if (rd.hardState !== undefined) node.hardState = rd.hardState
    node.applied.push(...rd.committedEntries)
    node.readStates.push(...rd.readStates)
    node.failedReads.push(...rd.failedReads)
    for (const fetch of rd.fetches) node.core.entriesFetched(fetch.id, node.log.slice(fetch.from, fetch.to))
    out.push(...rd.earlyMessages, ...rd.messages)
    node.core.advance(rd)
  }
  return out
}

export function ofType<T extends RaftMessage['type']> (messages: RaftMessage[], type: T): Array<Extract<RaftMessage, { type: T }>> {
  return messages.filter((m): m is Extract<RaftMessage, { type: T }> => m.type === type)
}

/** Makes a unit node the leader of `term` by feeding it granted votes from a majority. */
export function makeLeader (node: TestNode, voters: NodeId[]): void {
  node.core.campaign()
  flush(node)
  const term = node.core.status().term
  for (const voter of voters) {
    if (voter === node.id) continue
    if (node.core.status().role === 'leader') break
    node.core.step({ type: 'vote-response', from: voter, to: node.id, term, preVote: false, granted: true })
  }
  flush(node)
}

export const data = (s: string): Uint8Array => new TextEncoder().encode(s)
