import { describe, expect, it } from 'vitest'
import {
  createJumpRing, createKetamaRing, createMaglevRing, createRendezvousRing, createVnodeRing, planRangeMoves, planReplicaRangeMoves, planShardMoves
} from '../src/index.js'
import type { Ring } from '../src/index.js'
import { findRange, nodeIds, seededKeys } from './helpers.js'

const KEYS = seededKeys(5_000, 9)

/** Every key's owner change is described by exactly the plan's range containing its hash. */
function expectPlanMatchesKeys (before: Ring, after: Ring): void {
  const plan = planRangeMoves(before, after)
  const mismatches: string[] = []
  for (const key of KEYS) {
    const move = findRange(plan.moves, before.hash(key))
    const oldOwner = before.get(key)
    const newOwner = after.get(key)
    const described = move === undefined ? oldOwner === newOwner : move.from === oldOwner && move.to === newOwner
    if (!described) mismatches.push(key)
  }
  expect(mismatches).toEqual([])
}

describe('planRangeMoves', () => {
  it('describes an added vnode node: every range goes to it, about 1/(n+1) of the space', () => {
    const before = createVnodeRing({ nodes: nodeIds(9), vnodes: 1024 })
    const after = before.clone()
    after.add('node-9')
    const plan = planRangeMoves(before, after)
    expect(plan.moves.every(move => move.to === 'node-9')).toBe(true)
    expect(plan.movedFraction).toBeGreaterThan(0.08)
    expect(plan.movedFraction).toBeLessThan(0.12)
    expect(plan.receivedFraction.get('node-9')).toBeCloseTo(plan.movedFraction, 12)
    let given = 0
    for (const share of plan.givenFraction.values()) given += share
    expect(given).toBeCloseTo(plan.movedFraction, 12)
    expectPlanMatchesKeys(before, after)
  })

  it('agrees with key-by-key ownership for removals and reweights, on vnode, ketama and Maglev', () => {
    const cases: Array<[Ring, (ring: Ring) => void]> = [
      [createVnodeRing({ nodes: nodeIds(6), vnodes: 100 }), ring => { ring.remove('node-2') }],
      [createVnodeRing({ nodes: nodeIds(6), vnodes: 100 }), ring => { ring.reweight('node-1', 2.5) }],
      [createKetamaRing({ nodes: nodeIds(6) }), ring => { ring.add('node-6') }],
      [createMaglevRing({ nodes: nodeIds(6), tableSize: 1009 }), ring => { ring.remove('node-0') }]
    ]
    for (const [before, change] of cases) {
      const after = before.clone()
      change(after)
      expectPlanMatchesKeys(before, after)
      const plan = planRangeMoves(before, after)
      for (let i = 1; i < plan.moves.length; i++) expect(plan.moves[i]!.start).toBeGreaterThanOrEqual(plan.moves[i - 1]!.end)
    }
  })

  it('is empty for equal rings and refuses rings that hash keys differently or own no ranges', () => {
    const ring = createVnodeRing({ nodes: nodeIds(3) })
    expect(planRangeMoves(ring, ring.clone()).moves).toEqual([])
    expect(() => planRangeMoves(ring, createKetamaRing({ nodes: nodeIds(3) }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'keyHash' }))
    expect(() => planRangeMoves(ring, createRendezvousRing({ nodes: nodeIds(3) }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('replicaRanges and planReplicaRangeMoves', () => {
  const zoned = (count: number): Array<{ id: string, zone: string }> => nodeIds(count).map((id, i) => ({ id, zone: `z${i % 3}` }))

  it('replicaRanges() agrees with lookup(key, n) on every key, with and without zones', () => {
    for (const ring of [createVnodeRing({ nodes: zoned(7), vnodes: 64 }), createKetamaRing({ nodes: zoned(5) }), createMaglevRing({ nodes: zoned(6), tableSize: 257 })]) {
      for (const spreadZones of [false, true]) {
        const ranges = ring.replicaRanges(3, { spreadZones })
        expect(ranges[0]!.start).toBe(0)
        expect(ranges[ranges.length - 1]!.end).toBe(2 ** 32)
        const wrong = KEYS.filter(key => findRange(ranges, ring.hash(key))?.replicas.join() !== ring.lookup(key, 3, { spreadZones }).join())
        expect(wrong).toEqual([])
      }
    }
  })

  it('plans exactly the key-by-key changes of replica sets when a node joins or leaves', () => {
    // [ring, change, spreadZones, share of the hash space allowed to gain more than one replica]
    const cases: Array<[Ring, (ring: Ring) => void, boolean, number]> = [
      [createVnodeRing({ nodes: zoned(6), vnodes: 128 }), ring => { ring.add({ id: 'node-6', zone: 'z1' }) }, true, 0],
      [createVnodeRing({ nodes: zoned(6), vnodes: 128 }), ring => { ring.remove('node-2') }, true, 0],
      [createVnodeRing({ nodes: zoned(6), vnodes: 128 }), ring => { ring.add({ id: 'node-6', zone: 'z1' }) }, false, 0],
      // Maglev's owner moves needlessly for a small share of slots; those may gain two replicas.
      [createMaglevRing({ nodes: zoned(6), tableSize: 5003 }), ring => { ring.add({ id: 'node-6', zone: 'z0' }) }, false, 0.01],
      // With zones, a new owner in another zone than the old one displaces a second replica.
      [createMaglevRing({ nodes: zoned(6), tableSize: 5003 }), ring => { ring.add({ id: 'node-6', zone: 'z0' }) }, true, 0.1]
    ]
    for (const [before, change, spreadZones, multiGainAllowed] of cases) {
      const after = before.clone()
      change(after)
      const plan = planReplicaRangeMoves(before, after, { replicas: 3, spreadZones })
      const mismatches: string[] = []
      for (const key of KEYS) {
        const from = before.lookup(key, 3, { spreadZones })
        const to = after.lookup(key, 3, { spreadZones })
        const move = findRange(plan.moves, before.hash(key))
        const described = move === undefined
          ? from.join() === to.join()
          : move.from.join() === from.join() && move.to.join() === to.join() &&
            move.gained.join() === to.filter(node => !from.includes(node)).join() &&
            move.lost.join() === from.filter(node => !to.includes(node)).join()
        if (!described) mismatches.push(key)
      }
      expect(mismatches).toEqual([])
      const multiGain = plan.moves.filter(move => move.gained.length > 1).reduce((sum, move) => sum + move.end - move.start, 0) / 2 ** 32
      expect(multiGain).toBeLessThanOrEqual(multiGainAllowed)
      // About one node's worth of copies: 3/7 of the space, 1/3 when the new node shares its zone.
      expect(plan.copiedFraction).toBeGreaterThan(0.2)
      expect(plan.copiedFraction).toBeLessThan(0.6)
    }
  })

  it('is refused for rings without ranges', () => {
    const ring = createJumpRing({ nodes: nodeIds(3) })
    expect(() => ring.replicaRanges(2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => planReplicaRangeMoves(ring, ring.clone(), { replicas: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('planShardMoves', () => {
  const shards = Array.from({ length: 256 }, (_, i) => `shard-${i}`)

  it('lists exactly the shards whose replica set changes, with who gains and who loses a copy', () => {
    for (const before of [createRendezvousRing({ nodes: nodeIds(6) }), createJumpRing({ nodes: nodeIds(6) }), createVnodeRing({ nodes: nodeIds(6), vnodes: 512 })]) {
      const after = before.clone()
      after.add('node-6')
      const plan = planShardMoves(before, after, shards, { replicas: 3 })
      expect(plan.shardCount).toBe(256)
      const moved = new Set(plan.moves.map(move => move.shard))
      let copies = 0
      for (const shard of shards) {
        const changed = before.lookup(shard, 3).join() !== after.lookup(shard, 3).join()
        expect(moved.has(shard)).toBe(changed)
      }
      for (const move of plan.moves) {
        expect(move.from).toEqual(before.lookup(move.shard, 3))
        expect(move.to).toEqual(after.lookup(move.shard, 3))
        // Adding a node: every new copy goes to it, and each shard gives up at most one node.
        expect(move.gained).toEqual(['node-6'])
        expect(move.lost).toHaveLength(1)
        copies += move.gained.length
      }
      expect(plan.copies).toBe(copies)
      // About 3/7 of the shards get a copy on the new node.
      expect(plan.moves.length / shards.length).toBeGreaterThan(0.3)
      expect(plan.moves.length / shards.length).toBeLessThan(0.55)
    }
  })

  it('plans a migration between algorithms', () => {
    const plan = planShardMoves(createKetamaRing({ nodes: nodeIds(4) }), createMaglevRing({ nodes: nodeIds(4) }), shards)
    expect(plan.moves.every(move => move.ownerChanged && move.gained.length === 1)).toBe(true)
    expect(plan.moves.length).toBeGreaterThan(0)
  })
})
