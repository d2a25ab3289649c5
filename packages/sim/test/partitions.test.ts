import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { NodeId } from '@synod/interfaces'
import { createRandom, naiveRegisterWorkload, registerWorkload, runSeed } from '../src/index.js'
import { bridgePlan, groupsPlan, halvesPlan, isolatePlan, majorityRingPlan, oneWayPlan, type PartitionPlan } from '../src/network/partitions.js'

const key = (from: NodeId, to: NodeId): string => `${from}>${to}`
const cutSet = (plan: PartitionPlan): Set<string> => new Set(plan.cuts.map(([from, to]) => key(from, to)))

/** Every ordered pair of distinct nodes for which `cut` holds: the expected cuts, from the definition. */
function expected (nodes: NodeId[], cut: (from: NodeId, to: NodeId) => boolean): Set<string> {
  const result = new Set<string>()
  for (const from of nodes) for (const to of nodes) if (from !== to && cut(from, to)) result.add(key(from, to))
  return result
}

const clusters = fc.record({
  nodes: fc.integer({ min: 1, max: 9 }).map((n) => Array.from({ length: n }, (_, i) => `n${i + 1}`)),
  seed: fc.nat()
})

describe('partition shapes (every cluster size from 1 to 9)', () => {
  it('halves: a minority and a majority, cut exactly between them', () => {
    fc.assert(fc.property(clusters, ({ nodes, seed }) => {
      const plan = halvesPlan(nodes, createRandom(seed))
      const [minority, majority] = plan.groups as [NodeId[], NodeId[]]
      expect(minority.length).toBe(Math.floor(nodes.length / 2))
      expect([...minority, ...majority].sort()).toEqual([...nodes].sort())
      expect(cutSet(plan)).toEqual(expected(nodes, (a, b) => minority.includes(a) !== minority.includes(b)))
    }), { seed: 1, numRuns: 100 })
  })

  it('isolate: every link of the node, both ways, and nothing else', () => {
    fc.assert(fc.property(clusters, ({ nodes, seed }) => {
      const victim = createRandom(seed).pick(nodes)
      expect(cutSet(isolatePlan(victim, nodes))).toEqual(expected(nodes, (a, b) => a === victim || b === victim))
    }), { seed: 2, numRuns: 100 })
  })

  it('bridge: the sides cannot talk; the bridge talks to everyone', () => {
    fc.assert(fc.property(clusters, ({ nodes, seed }) => {
      const plan = bridgePlan(nodes, createRandom(seed))
      const [left, [bridge], right] = plan.groups as [NodeId[], [NodeId], NodeId[]]
      expect([...left, bridge, ...right].sort()).toEqual([...nodes].sort())
      expect(Math.abs(left.length - right.length)).toBeLessThanOrEqual(1)
      expect(cutSet(plan)).toEqual(expected(nodes, (a, b) => (left.includes(a) && right.includes(b)) || (right.includes(a) && left.includes(b))))
    }), { seed: 3, numRuns: 100 })
  })

  it('majority ring: symmetric, every node sees a majority, and from 4 nodes on no two see the same one', () => {
    fc.assert(fc.property(clusters, ({ nodes, seed }) => {
      const cuts = cutSet(majorityRingPlan(nodes, createRandom(seed)))
      const views = nodes.map((node) => nodes.filter((other) => other === node || !cuts.has(key(other, node))).sort().join(','))
      for (const [from, to] of [...cuts].map((link) => link.split('>'))) expect(cuts.has(key(to as string, from as string))).toBe(true)
      for (const view of views) expect(view.split(',').length).toBeGreaterThan(nodes.length / 2)
      if (nodes.length >= 4) expect(new Set(views).size).toBe(nodes.length)
    }), { seed: 4, numRuns: 100 })
  })

  it('one-way: only the given direction is cut', () => {
    fc.assert(fc.property(clusters, ({ nodes, seed }) => {
      const random = createRandom(seed)
      const from = nodes.filter(() => random.chance(0.5))
      const to = nodes.filter((node) => !from.includes(node))
      expect(cutSet(oneWayPlan(from, to))).toEqual(expected(nodes, (a, b) => from.includes(a) && to.includes(b)))
    }), { seed: 5, numRuns: 100 })
  })

  it('groups: nodes outside every group stay connected to all', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e']
    const plan = groupsPlan([['a'], ['b', 'c']])
    expect(cutSet(plan)).toEqual(expected(nodes, (x, y) => (x === 'a' && ['b', 'c'].includes(y)) || (y === 'a' && ['b', 'c'].includes(x))))
  })
})

describe('named random streams', () => {
  it('a workload change that adds random draws (gossip) leaves the clients and the nemesis untouched', async () => {
    const actions = (trace: string): string[] => trace.split('\n').filter((line) => / (client|nemesis) /.test(line))
    for (const seed of [0, 1]) {
      const plain = await runSeed(naiveRegisterWorkload, seed, { duration: 4000, trace: { record: true } })
      const gossiping = await runSeed(registerWorkload, seed, { duration: 4000, trace: { record: true } })
      // The same client writes at the same times and the same faults, although the second run draws
      // many more random numbers (gossip timers) and has a different trace.
      expect(actions(plain.trace).length).toBeGreaterThan(20)
      expect(actions(gossiping.trace)).toEqual(actions(plain.trace))
      expect(gossiping.digest).not.toBe(plain.digest)
    }
  })
})
