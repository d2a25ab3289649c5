import { describe, expect, it } from 'vitest'
import type { HardStateStorage, LogEntry, LogStorage } from '@synod/interfaces'
import { createMemoryNetwork } from '@synod/sim'
import { createMemoryHardStateStorage, createMemoryLogStorage, createMemorySnapshotStorage } from '@synod/storage'
import { createPaxosNode } from '../../src/index.js'
import type { PaxosHardState, PaxosWireMessage } from '../../src/index.js'
import { KvStateMachine, encodeKv } from '../harness/kv.js'
import { createManualClock } from '@synod/sim'
import { turn } from '../harness/turn.js'

describe('the commit hint', () => {
  it('is saved without waiting for it, beside slot writes still in flight, and never covers slots that are not durable yet', async () => {
    const log = createMemoryLogStorage()
    // Appends complete only when released, so hint saves happen while slots are being written.
    const held: Array<() => void> = []
    let durable = 0
    const slowLog: LogStorage = {
      start: async () => { await log.start() },
      stop: async () => { await log.stop() },
      firstIndex: () => log.firstIndex(),
      lastIndex: () => log.lastIndex(),
      term: (index) => log.term(index),
      entries: async (from, to, options) => await log.entries(from, to, options),
      truncateSuffix: async (from) => { await log.truncateSuffix(from) },
      compactPrefix: async (upTo, term) => { await log.compactPrefix(upTo, term) },
      append: async (entries: readonly LogEntry[]) => {
        await new Promise<void>((resolve) => { held.push(resolve) })
        await log.append(entries)
        durable = entries[entries.length - 1]!.index
      }
    }
    const hard = createMemoryHardStateStorage<PaxosHardState>()
    const hints: Array<{ commit: number, durable: number }> = []
    // Saves after the election's promise complete only when released, a few rounds later.
    const heldSaves: Array<() => void> = []
    const checkedHard: HardStateStorage<PaxosHardState> = {
      start: async () => { await hard.start() },
      stop: async () => { await hard.stop() },
      load: async () => await hard.load(),
      save: async (state) => {
        hints.push({ commit: state.commit, durable })
        if (state.commit > 0) await new Promise<void>((resolve) => { heldSaves.push(resolve) })
        await hard.save(state)
      }
    }
    const clock = createManualClock()
    const network = createMemoryNetwork()
    const kv = new KvStateMachine()
    const node = createPaxosNode({ id: 'n1', bootstrap: { voters: ['n1'], learners: [], addresses: { n1: 'n1' } }, tickMs: 10 }, {
      transport: network.endpoint<PaxosWireMessage>('n1'), log: slowLog, hardState: checkedHard, snapshots: createMemorySnapshotStorage(), stateMachine: kv, clock
    })
    await node.start()
    const proposals: Array<Promise<unknown>> = []
    let appliedWhileHintPending = 0
    for (let round = 0; round < 20; round++) {
      proposals.push(node.propose(encodeKv({ op: 'put', key: `k${round}`, value: `${round}` })).then(() => {
        if (heldSaves.length > 0) appliedWhileHintPending++
      }))
      clock.advance(10)
      await turn()
      held.shift()?.()
      await turn()
      if (round % 5 === 4) for (const release of heldSaves.splice(0)) release()
    }
    while (held.length > 0) {
      held.shift()?.()
      await turn()
    }
    await Promise.all(proposals)
    for (const release of heldSaves.splice(0)) release()
    expect(kv.get('k19')).toBe('19')
    expect(appliedWhileHintPending).toBeGreaterThan(0)
    const hintSaves = hints.filter((h) => h.commit > 0)
    expect(hintSaves.length).toBeGreaterThan(0)
    for (const hint of hintSaves) expect(hint.commit).toBeLessThanOrEqual(hint.durable)
    await node.stop()
  })
})
