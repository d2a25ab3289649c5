import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { LogEntry, NodeId } from '@synod/interfaces'
import { Network, text } from '../harness/network.js'

type Op =
  | { kind: 'ticks', rounds: number }
  | { kind: 'propose', value: number }
  | { kind: 'isolate', node: number }
  | { kind: 'cut', a: number, b: number }
  | { kind: 'drop', rate: number }
  | { kind: 'heal' }
  | { kind: 'restart', node: number }
  | { kind: 'transfer', node: number }
  | { kind: 'compact', node: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('ticks' as const), rounds: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('propose' as const), value: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('isolate' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), a: fc.nat(4), b: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), rate: fc.double({ min: 0, max: 0.5, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), node: fc.nat(4) }) }
)

/** Checks Raft's safety properties (Figure 3) over the whole run. */
class SafetyChecker {
  readonly leaders = new Map<number, NodeId>()
  readonly committed = new Map<number, LogEntry>()

  observe (net: Network): void {
    for (const node of net.nodes.values()) {
      const status = node.core.status()
      // Election Safety: at most one leader per term.
      if (status.role === 'leader') {
        const known = this.leaders.get(status.term)
        if (known !== undefined) expect(known).toBe(node.id)
        else {
          this.leaders.set(status.term, node.id)
          // Leader Completeness: a new leader holds every entry committed before its election.
          for (const entry of this.committed.values()) {
            if (entry.index <= node.log.compactedIndex) continue
            expect(node.log.term(entry.index), `leader ${node.id} of term ${status.term} lacks committed ${entry.index}`).toBe(entry.term)
          }
        }
      }
      // State Machine Safety: no two nodes apply different entries at one index.
      for (const entry of node.applied) {
        const other = this.committed.get(entry.index)
        if (other === undefined) this.committed.set(entry.index, entry)
        else expect([entry.index, entry.term]).toEqual([other.index, other.term])
      }
    }
    // Log Matching: two logs with an entry of the same index and term agree on everything before it.
    const nodes = [...net.nodes.values()]
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const a = nodes[i]?.log
        const b = nodes[j]?.log
        if (a === undefined || b === undefined) continue
        const last = Math.min(a.lastIndex(), b.lastIndex())
        const first = Math.max(a.compactedIndex, b.compactedIndex) + 1
        let matched = false
        for (let index = last; index >= first; index--) {
          if (!matched && a.term(index) === b.term(index)) matched = true
          if (matched) expect(a.term(index)).toBe(b.term(index))
        }
      }
    }
  }
}

function run (size: number, seed: number, ops: Op[]): void {
  const ids = Array.from({ length: size }, (_, i) => `n${i}`)
  const pick = (i: number): NodeId => ids[i % size] ?? 'n0'
  const net = new Network(ids, { seed, electionTicks: 10 })
  const checker = new SafetyChecker()
  for (const op of ops) {
    switch (op.kind) {
      case 'ticks': for (let i = 0; i < op.rounds; i++) { net.tickAll(); checker.observe(net) } break
      case 'propose': {
        const leader = net.leader()
        if (leader !== undefined) {
          try { net.core(leader).propose(text(`v${op.value}`)) } catch { /* dropped during transfer */ }
          net.deliver()
        }
        break
      }
      case 'isolate': net.isolate(pick(op.node)); break
      case 'cut': if (op.a % size !== op.b % size) net.cut(pick(op.a), pick(op.b)); break
      case 'drop': net.dropRate(op.rate); break
      case 'heal': net.heal(); break
      case 'restart': net.node(pick(op.node)).restart(); net.deliver(); break
      case 'transfer': {
        const leader = net.leader()
        if (leader !== undefined) {
          try { net.core(leader).transferLeadership(pick(op.node)) } catch { /* not a voter or itself */ }
          net.deliver()
        }
        break
      }
      case 'compact': {
        const node = net.node(pick(op.node))
        if (node.core.status().appliedIndex > node.snapshot.index) net.snapshotAndCompact(node.id)
        break
      }
    }
    checker.observe(net)
  }
  // Liveness: once every fault heals, a leader emerges and a proposal commits everywhere.
  net.heal()
  const leader = net.waitForLeader(300)
  let committed = false
  for (let attempt = 0; attempt < 20 && !committed; attempt++) {
    const current = net.leader() ?? leader
    try { net.core(current).propose(text('final')) } catch { /* transfer in flight */ }
    net.tickAll(5)
    committed = [...net.nodes.values()].every((n) => n.appliedCommands().includes('final'))
  }
  expect(committed).toBe(true)
  checker.observe(net)
}

describe('randomized schedules (safety invariants on every step, liveness after healing)', () => {
  it.each([3, 5])('%i nodes', (size) => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(opArb, { minLength: 5, maxLength: 40 }), (seed, ops) => {
      run(size, seed, ops)
    }), { numRuns: Number(process.env.RAFT_PROPERTY_RUNS ?? 60), seed: 20261128 + size })
  })
})
