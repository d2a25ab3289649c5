import type { RaftNodeStatus } from '@synod/raft'
import { createManualClock } from '@synod/sim'
import { describe, expect, it } from 'vitest'
import { createPausableClock } from '../../src/sharding/group-clock.js'
import { NodeLiveness } from '../../src/sharding/liveness.js'
import { followerMayQuiesce, leaderMayQuiesce, wakesQuiescedReplica } from '../../src/sharding/quiescence.js'
import { placeShards, shardOfKey } from '../../src/sharding/shard-map.js'

describe('pausable clock', () => {
  it('stands still while paused and fires timers with the time they had left', () => {
    const base = createManualClock()
    const clock = createPausableClock(base)
    const fired: number[] = []
    clock.setTimeout(() => { fired.push(clock.now()) }, 100)
    base.advance(40)
    clock.pause()
    base.advance(1000)
    expect(clock.now()).toBe(40)
    expect(fired).toEqual([])
    clock.resume()
    base.advance(59)
    expect(fired).toEqual([])
    base.advance(1)
    expect(fired).toEqual([100])
    expect(clock.pendingTimers()).toBe(0)
  })

  it('cancels parked timers and keeps the paused time out of now() across several pauses', () => {
    const base = createManualClock()
    const clock = createPausableClock(base)
    const handle = clock.setTimeout(() => { throw new Error('cancelled timer fired') }, 10)
    clock.pause()
    clock.clearTimeout(handle)
    clock.resume()
    base.advance(50)
    clock.pause()
    base.advance(500)
    clock.resume()
    base.advance(25)
    expect(clock.now()).toBe(75)
    expect(clock.pendingTimers()).toBe(0)
  })
})

describe('shard map', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => ({ id }))

  it('maps a key to a stable shard in range', () => {
    for (let i = 0; i < 500; i++) {
      const shard = shardOfKey(`user:${i}`, 64)
      expect(shard).toBeGreaterThanOrEqual(0)
      expect(shard).toBeLessThan(64)
      expect(shardOfKey(`user:${i}`, 64)).toBe(shard)
    }
    // Fixed by the hash (MurmurHash3 of 'hello' is 0x248bfa47), so every version routes alike.
    expect(shardOfKey('hello', 1000)).toBe(0x248bfa47 % 1000)
  })

  it('places three distinct replicas per shard, deterministically, regardless of node order', () => {
    const placement = placeShards({ nodes, shardCount: 64 })
    const shuffled = placeShards({ nodes: [...nodes].reverse(), shardCount: 64 })
    expect(shuffled).toEqual(placement)
    for (const shard of placement) {
      expect(new Set(shard.replicas).size).toBe(3)
      expect(shard.replicas).toContain(shard.preferredLeader)
    }
  })

  it('spreads preferred leaders evenly and replicas within 20% of the mean', () => {
    const placement = placeShards({ nodes, shardCount: 1000 })
    const leaders = new Map<string, number>()
    const replicas = new Map<string, number>()
    for (const shard of placement) {
      leaders.set(shard.preferredLeader, (leaders.get(shard.preferredLeader) ?? 0) + 1)
      for (const node of shard.replicas) replicas.set(node, (replicas.get(node) ?? 0) + 1)
    }
    for (const count of leaders.values()) expect(Math.abs(count - 200)).toBeLessThanOrEqual(1)
    for (const count of replicas.values()) expect(Math.abs(count - 600) / 600).toBeLessThan(0.2)
  })

  it('puts each replica of a shard in a different zone when zones are given', () => {
    const zoned = ['a', 'a', 'b', 'b', 'c', 'c'].map((zone, i) => ({ id: `n${i}`, zone }))
    const zoneOf = new Map(zoned.map((node) => [node.id, node.zone]))
    for (const shard of placeShards({ nodes: zoned, shardCount: 100 })) {
      expect(new Set(shard.replicas.map((id) => zoneOf.get(id))).size).toBe(3)
    }
  })

  it('uses every node when the cluster is smaller than the replication factor, and rejects bad input', () => {
    expect(placeShards({ nodes: [{ id: 'solo' }], shardCount: 2 }).map((p) => p.replicas)).toEqual([['solo'], ['solo']])
    expect(() => placeShards({ nodes, shardCount: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => placeShards({ nodes: [], shardCount: 4 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('quiescence rules', () => {
  const peer = (match: number, state: 'probe' | 'replicate' | 'snapshot' = 'replicate') =>
    ({ match, next: match + 1, state, paused: false, inflightMessages: 0, inflightBytes: 0, recentActive: true, isLearner: false })
  const leader: RaftNodeStatus = {
    id: 'a', role: 'leader', term: 3, leader: 'a', commitIndex: 9, appliedIndex: 9, firstIndex: 1, lastIndex: 9,
    config: { voters: ['a', 'b', 'c'], learners: [], addresses: {} }, vote: 'a', persistedIndex: 9,
    progress: { a: peer(9), b: peer(9), c: peer(9) }, leadTransferee: undefined, leaderChanges: 1
  }
  const live = (): boolean => true

  it('lets an idle, fully replicated leader quiesce, and nothing less', () => {
    expect(leaderMayQuiesce(leader, live, false)).toBe(true)
    expect(leaderMayQuiesce(leader, live, true)).toBe(false)
    expect(leaderMayQuiesce(leader, (node) => node !== 'c', false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, progress: { ...leader.progress, c: peer(8) } }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, progress: { ...leader.progress, c: peer(9, 'probe') } }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, commitIndex: 8 }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, appliedIndex: 8 }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, leadTransferee: 'b' }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, role: 'follower' }, live, false)).toBe(false)
    expect(leaderMayQuiesce({ ...leader, config: { ...leader.config, outgoingVoters: ['a', 'b', 'd'] } }, live, false)).toBe(false)
  })

  it('lets a follower quiesce only at exactly the leader\'s position', () => {
    const follower: RaftNodeStatus = { ...leader, id: 'b', role: 'follower', vote: 'a', progress: {} }
    const request = { type: 'quiesce' as const, from: 'a', to: 'b', term: 3, commitIndex: 9, lastIndex: 9 }
    expect(followerMayQuiesce(follower, request)).toBe(true)
    expect(followerMayQuiesce({ ...follower, commitIndex: 8 }, request)).toBe(false)
    expect(followerMayQuiesce({ ...follower, lastIndex: 10 }, request)).toBe(false)
    expect(followerMayQuiesce({ ...follower, leader: 'c' }, request)).toBe(false)
    expect(followerMayQuiesce({ ...follower, term: 4 }, request)).toBe(false)
    expect(followerMayQuiesce({ ...follower, role: 'pre-candidate' }, request)).toBe(false)
  })

  it('does not wake on acknowledgements of what the leader already knows', () => {
    const base = { from: 'b', to: 'a', term: 3 }
    expect(wakesQuiescedReplica({ ...base, type: 'heartbeat-response', readContext: '', sentTick: 4 })).toBe(false)
    expect(wakesQuiescedReplica({ ...base, type: 'append-response', reject: false, index: 9, hintIndex: 0, hintTerm: 0 })).toBe(false)
    expect(wakesQuiescedReplica({ ...base, type: 'append-response', reject: true, index: 9, hintIndex: 0, hintTerm: 0 })).toBe(true)
    expect(wakesQuiescedReplica({ ...base, type: 'heartbeat', commit: 9, readContext: '', sentTick: 4 })).toBe(true)
    expect(wakesQuiescedReplica({ ...base, type: 'vote-request', preVote: true, lastIndex: 9, lastTerm: 3, transfer: false })).toBe(true)
  })
})

describe('node liveness', () => {
  it('presumes a silent peer dead after the timeout and reports it once, and its return', () => {
    const liveness = new NodeLiveness(100)
    liveness.track('b', 0)
    expect(liveness.check(100)).toEqual({ died: [], revived: [] })
    expect(liveness.check(101)).toEqual({ died: ['b'], revived: [] })
    expect(liveness.check(150)).toEqual({ died: [], revived: [] })
    expect(liveness.isLive('b')).toBe(false)
    liveness.heard('b', 160)
    expect(liveness.check(170)).toEqual({ died: [], revived: ['b'] })
    expect(liveness.isLive('b')).toBe(true)
  })
})
