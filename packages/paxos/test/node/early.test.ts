import { describe, expect, it } from 'vitest'
import type { LogEntry, LogStorage } from '@synod/interfaces'
import { createMemoryNetwork } from '@synod/sim'
import { createMemoryHardStateStorage, createMemoryLogStorage, createMemorySnapshotStorage } from '@synod/storage'
import { createPaxosNode } from '../../src/index.js'
import type { PaxosHardState, PaxosNode, PaxosWireMessage } from '../../src/index.js'
import { KvStateMachine, encodeKv } from '../harness/kv.js'
import { createManualClock } from '@synod/sim'
import { turn } from '../harness/turn.js'

/** A memory log whose appends, while `holding` is set, complete only when released. */
function gatedLog (): LogStorage & { holding: boolean, held: Array<() => void> } {
  const log = createMemoryLogStorage()
  const gated = {
    holding: false,
    held: [] as Array<() => void>,
    start: async () => { await log.start() },
    stop: async () => { await log.stop() },
    firstIndex: () => log.firstIndex(),
    lastIndex: () => log.lastIndex(),
    term: (index: number) => log.term(index),
    entries: async (from: number, to: number, options?: { maxBytes?: number }) => await log.entries(from, to, options),
    truncateSuffix: async (from: number) => { await log.truncateSuffix(from) },
    compactPrefix: async (upTo: number, term: number) => { await log.compactPrefix(upTo, term) },
    append: async (entries: readonly LogEntry[]) => {
      if (gated.holding) await new Promise<void>((resolve) => { gated.held.push(resolve) })
      await log.append(entries)
    }
  }
  return gated
}

describe('a leader whose write is in flight', () => {
  it('sends the next batch and answers callers whose slots two acceptors chose, before its own write completes', async () => {
    const ids = ['n1', 'n2', 'n3']
    const bootstrap = { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
    const network = createMemoryNetwork()
    const clock = createManualClock()
    const leaderLog = gatedLog()
    const nodes: PaxosNode[] = ids.map((id) => createPaxosNode({ id, bootstrap, tickMs: 10 }, {
      transport: network.endpoint<PaxosWireMessage>(id, { peers: ids.filter((x) => x !== id) }),
      log: id === 'n1' ? leaderLog : createMemoryLogStorage(),
      hardState: createMemoryHardStateStorage<PaxosHardState>(),
      snapshots: createMemorySnapshotStorage(),
      stateMachine: new KvStateMachine(),
      clock,
      // n1 times out first (shortest election timeout); the others wait the longest.
      random: id === 'n1' ? { next: () => 0, int: () => 0 } : { next: () => 0.999, int: (n) => n - 1 }
    }))
    await Promise.all(nodes.map(async (node) => { await node.start() }))
    const leader = nodes[0]!
    for (let i = 0; i < 40 && !leader.isLeader(); i++) {
      clock.advance(10)
      await turn()
    }
    expect(leader.isLeader()).toBe(true)
    await leader.propose(encodeKv({ op: 'put', key: 'warm', value: 'up' }))

    leaderLog.holding = true
    const answered: string[] = []
    const first = leader.propose(encodeKv({ op: 'put', key: 'a', value: '1' })).then(() => { answered.push('a') })
    for (let i = 0; i < 5 && leaderLog.held.length === 0; i++) await turn()
    expect(leaderLog.held.length).toBe(1) // the leader's write of slot a is in flight
    const second = leader.propose(encodeKv({ op: 'put', key: 'b', value: '2' })).then(() => { answered.push('b') })
    for (let i = 0; i < 20 && answered.length < 2; i++) await turn()
    // Both are chosen by n2 and n3 and applied here while the leader's first write is still held.
    expect(answered).toEqual(['a', 'b'])
    expect(leaderLog.held.length).toBe(1)

    leaderLog.holding = false
    for (const release of leaderLog.held.splice(0)) release()
    await Promise.all([first, second])
    await Promise.all(nodes.map(async (node) => { await node.stop() }))
  })
})
