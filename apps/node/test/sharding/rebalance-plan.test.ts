import { describe, expect, it } from 'vitest'
import { planRebalance, type RebalancePlan } from '../../src/sharding/rebalance-plan.js'
import { placeShards, type ShardPlacement } from '../../src/sharding/shard-map.js'
import { seededRandom } from './support.js'

interface Model { voters: Set<string>, learners: Set<string>, leader: string }

/** Runs a plan's steps against a model of each shard's configuration, checking every step is legal. */
function execute (before: ShardPlacement[], after: ShardPlacement[], plan: RebalancePlan): Map<number, Model> {
  const models = new Map(before.map((p) => [p.shard, { voters: new Set(p.replicas), learners: new Set<string>(), leader: p.preferredLeader }]))
  const minimum = new Map(before.map((p, i) => [p.shard, Math.min(p.replicas.length, after[i]!.replicas.length)]))
  for (const wave of plan.waves) {
    for (const move of wave) {
      for (const step of move.steps) {
        const model = models.get(step.shard)!
        switch (step.kind) {
          case 'add-learner':
            expect(model.voters.has(step.node) || model.learners.has(step.node)).toBe(false)
            model.learners.add(step.node)
            break
          case 'await-catch-up':
            expect(model.learners.has(step.node)).toBe(true)
            break
          case 'promote':
            expect(model.learners.delete(step.node)).toBe(true)
            model.voters.add(step.node)
            break
          case 'transfer-leadership':
            expect(model.voters.has(step.to)).toBe(true)
            model.leader = step.to
            break
          case 'remove':
            expect(model.voters.has(step.node)).toBe(true)
            expect(step.node).not.toBe(model.leader)
            model.voters.delete(step.node)
            // Never fewer voters than the shard had before, or than it will have after.
            expect(model.voters.size).toBeGreaterThanOrEqual(minimum.get(step.shard)!)
            break
        }
      }
    }
  }
  return models
}

function expectReaches (before: ShardPlacement[], after: ShardPlacement[], plan: RebalancePlan): void {
  const models = execute(before, after, plan)
  for (const placement of after) {
    const model = models.get(placement.shard)!
    expect([...model.voters].sort()).toEqual([...placement.replicas].sort())
    expect(model.learners.size).toBe(0)
    expect(model.leader).toBe(placement.preferredLeader)
  }
}

const ids = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => `n${i + from}`)
const place = (nodes: string[], shardCount = 64): ShardPlacement[] => placeShards({ nodes: nodes.map((id) => ({ id })), shardCount })

describe('rebalance planner', () => {
  it('growing 3 -> 5 nodes and back moves only what the ring moves, and every step sequence is legal', () => {
    const three = place(ids(3))
    const five = place(ids(5))
    const grow = planRebalance(three, five)
    expectReaches(three, five, grow)
    for (const move of grow.moves) {
      const gained = move.to.filter((node) => !move.from.includes(node))
      expect(gained.every((node) => node === 'n4' || node === 'n5')).toBe(true)
    }
    expect(grow.copies).toBe(five.reduce((sum, p, i) => sum + p.replicas.filter((node) => !three[i]!.replicas.includes(node)).length, 0))
    const shrink = planRebalance(five, three)
    expectReaches(five, three, shrink)
  })

  it('plans nothing for an unchanged placement', () => {
    const placement = place(ids(4))
    expect(planRebalance(placement, place(ids(4)))).toEqual({ moves: [], waves: [], copies: 0 })
  })

  it('reaches the target from random membership changes, and waves respect the per-node throttle', () => {
    const random = seededRandom(20261128)
    for (let run = 0; run < 12; run++) {
      const pool = ids(8)
      const pick = (): string[] => pool.filter(() => random.next() < 0.6)
      let a = pick()
      let b = pick()
      if (a.length === 0) a = ['n1']
      if (b.length === 0) b = ['n2']
      const before = place(a, 24)
      const after = place(b, 24)
      const limit = 1 + random.int(3)
      const plan = planRebalance(before, after, { maxMovesPerNode: limit })
      expectReaches(before, after, plan)
      for (const wave of plan.waves) {
        const load = new Map<string, number>()
        for (const move of wave) {
          for (const node of new Set([...move.to.filter((n) => !move.from.includes(n)), ...move.from.filter((n) => !move.to.includes(n))])) {
            load.set(node, (load.get(node) ?? 0) + 1)
          }
        }
        for (const count of load.values()) expect(count).toBeLessThanOrEqual(limit)
      }
      expect(plan.waves.flat()).toHaveLength(plan.moves.length)
    }
  })

  it('moves leadership off a replica before removing it', () => {
    const before: ShardPlacement[] = [{ shard: 0, replicas: ['a', 'b', 'c'], preferredLeader: 'a' }]
    const after: ShardPlacement[] = [{ shard: 0, replicas: ['d', 'b', 'c'], preferredLeader: 'd' }]
    expect(planRebalance(before, after).moves[0]!.steps).toEqual([
      { kind: 'add-learner', shard: 0, node: 'd' },
      { kind: 'await-catch-up', shard: 0, node: 'd' },
      { kind: 'promote', shard: 0, node: 'd' },
      { kind: 'transfer-leadership', shard: 0, to: 'd' },
      { kind: 'remove', shard: 0, node: 'a' }
    ])
  })

  it('rejects placements of different shards and a bad throttle', () => {
    expect(() => planRebalance(place(ids(3), 4), place(ids(3), 5))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => planRebalance([], [], { maxMovesPerNode: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
