import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

/**
 * Random schedules: any mix of loss, duplication, reordering, partitions, duelling proposers,
 * restarts and wiped acceptors (one at a time). Agreement is checked on the durable votes themselves.
 */
describe('properties', () => {
  it('no schedule makes two values chosen for one slot, and every schedule converges once healed', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('campaign' as const), node: fc.nat(4) }),
      fc.record({ kind: fc.constant('partition' as const), mask: fc.nat(31) }),
      fc.record({ kind: fc.constant('heal' as const) }),
      fc.record({ kind: fc.constant('restart' as const), node: fc.nat(4) }),
      fc.record({ kind: fc.constant('wipe' as const), node: fc.nat(4) }),
      fc.record({ kind: fc.constant('tick' as const), ticks: fc.integer({ min: 1, max: 12 }) })
    )
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(3, 5), fc.double({ min: 0, max: 0.3, noNaN: true }),
      fc.double({ min: 0, max: 0.3, noNaN: true }), fc.boolean(), fc.array(step, { minLength: 5, maxLength: 40 }),
      (seed, size, loss, duplicate, reorder, steps) => {
        const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
        const net = new Network({ ids, seed, loss, duplicate, reorder })
        let n = 0
        for (const s of steps) {
          switch (s.kind) {
            case 'propose': {
              const leader = net.leader()
              if (leader !== undefined) {
                try { leader.core.proposeBatch(Array.from({ length: s.count }, () => text(`v${n++}`))) } catch { /* deposed meanwhile */ }
              }
              break
            }
            case 'campaign': net.core(ids[s.node % size]!).campaign(); break
            case 'partition': net.heal(); net.partition(ids.filter((_, i) => ((s.mask >> i) & 1) === 1)); break
            case 'heal': net.heal(); break
            case 'restart': net.node(ids[s.node % size]!).restart(); break
            case 'wipe':
              // One lost disk at a time: losing a majority's state stalls the cluster for good, by design.
              if (![...net.nodes.values()].some((node) => node.core.status().recovering)) net.node(ids[s.node % size]!).wipe(net.bootstrap)
              break
            case 'tick': for (let i = 0; i < s.ticks; i++) { net.tick(); net.stabilize() } break
          }
          net.stabilize()
        }
        const quorum = Math.floor(size / 2) + 1
        expect(net.checkAgreement(quorum)).toEqual([])
        net.heal()
        net.loss = 0
        net.duplicate = 0
        net.run(60)
        const leader = net.leader()
        expect(leader).toBeDefined()
        leader!.core.propose(text('final'))
        net.run(5)
        const reference = leader!.applied.map((e) => `${e.index}:${e.type}:${new TextDecoder().decode(e.data)}`)
        expect(reference.at(-1)).toMatch(/final$/)
        for (const node of net.nodes.values()) {
          expect(node.applied.map((e) => `${e.index}:${e.type}:${new TextDecoder().decode(e.data)}`)).toEqual(reference)
        }
        expect(net.checkAgreement(quorum)).toEqual([])
      }
    ), { numRuns: 60, seed: 42 })
  })
})
