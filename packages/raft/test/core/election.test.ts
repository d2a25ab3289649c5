import { describe, expect, it } from 'vitest'
import { createRaftCore } from '../../src/core/index.js'
import { MemoryLog } from '../harness/memory-log.js'
import { Network } from '../harness/network.js'
import { seededRandom } from '../harness/random.js'
import { flush, ofType, unitNode } from '../harness/unit.js'

const T = 10

describe('election (Raft §5.2)', () => {
  it('an election timeout makes a follower a candidate: term+1, votes for itself, asks with its last index and term', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { logTerms: [1, 1, 2], preVote: false, electionTicks: T })
    for (let i = 0; i < 2 * T && node.core.status().role === 'follower'; i++) node.core.tick()
    const status = node.core.status()
    expect(status.role).toBe('candidate')
    expect(status.term).toBe(3)
    expect(status.vote).toBe('a')
    const requests = ofType(flush(node), 'vote-request')
    expect(requests.map((m) => m.to).sort()).toEqual(['b', 'c'])
    for (const m of requests) expect(m).toMatchObject({ term: 3, lastIndex: 3, lastTerm: 2, preVote: false })
    // The vote is durable before the requests go out.
    expect(node.hardState).toMatchObject({ term: 3, vote: 'a' })
  })

  it('a split vote (no winner) times out and retries at term+1', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { preVote: false, electionTicks: T })
    for (let i = 0; i < 2 * T && node.core.status().role === 'follower'; i++) node.core.tick()
    expect(node.core.status()).toMatchObject({ role: 'candidate', term: 1 })
    flush(node)
    // Nobody answers; b voted for someone else.
    node.core.step({ type: 'vote-response', from: 'b', to: 'a', term: 1, preVote: false, granted: false })
    for (let i = 0; i < 2 * T && node.core.status().term === 1; i++) node.core.tick()
    expect(node.core.status()).toMatchObject({ role: 'candidate', term: 2, vote: 'a' })
    expect(ofType(flush(node), 'vote-request').every((m) => m.term === 2)).toBe(true)
  })

  // etcd TestLeaderElectionInOneRoundRPC
  const cases: Array<[size: number, votes: Record<string, boolean>, expected: string]> = [
    [1, {}, 'leader'],
    [3, { n2: true, n3: true }, 'leader'],
    [3, { n2: true }, 'leader'],
    [5, { n2: true, n3: true, n4: true, n5: true }, 'leader'],
    [5, { n2: true, n3: true, n4: true }, 'leader'],
    [5, { n2: true, n3: true }, 'leader'],
    [3, { n2: false, n3: false }, 'follower'],
    [5, { n2: false, n3: false, n4: false, n5: false }, 'follower'],
    [5, { n2: true, n3: false, n4: false, n5: false }, 'follower'],
    [3, {}, 'candidate'],
    [5, { n2: true }, 'candidate'],
    [5, { n2: false, n3: false }, 'candidate'],
    [5, { n2: true, n3: false, n4: false }, 'candidate']
  ]
  it.each(cases)('with %i voters and votes %j the candidate becomes %s', (size, votes, expected) => {
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
    const node = unitNode('n1', ids, { preVote: false })
    node.core.campaign()
    flush(node)
    for (const [from, granted] of Object.entries(votes)) {
      node.core.step({ type: 'vote-response', from, to: 'n1', term: 1, preVote: false, granted })
    }
    expect(node.core.status().role).toBe(expected)
    expect(node.core.status().term).toBe(1)
  })

  it('grants one vote per term and re-grants a repeated request from the same candidate', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { preVote: false })
    const ask = (from: string): boolean | undefined => {
      node.core.step({ type: 'vote-request', from, to: 'a', term: 1, preVote: false, lastIndex: 0, lastTerm: 0, transfer: false })
      return ofType(flush(node), 'vote-response')[0]?.granted
    }
    expect(ask('b')).toBe(true)
    expect(node.hardState?.vote).toBe('b')
    expect(ask('c')).toBe(false)
    expect(ask('b')).toBe(true)
    expect(node.core.status().vote).toBe('b')
  })

  it('a candidate steps down when it receives an append from a leader of its own term', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { preVote: false })
    node.core.campaign()
    flush(node)
    expect(node.core.status()).toMatchObject({ role: 'candidate', term: 1 })
    node.core.step({ type: 'append', from: 'b', to: 'a', term: 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 })
    expect(node.core.status()).toMatchObject({ role: 'follower', term: 1, leader: 'b' })
  })

  it('election timeouts are spread over [T, 2T)', () => {
    const seen = new Set<number>()
    for (let seed = 1; seed <= 200; seed++) {
      const core = createRaftCore({
        id: 'a', storage: new MemoryLog(), random: seededRandom(seed), electionTicks: T, preVote: false,
        snapshot: { index: 0, term: 0, config: { voters: ['a', 'b', 'c'], learners: [], addresses: {} } }
      })
      let ticks = 0
      while (core.status().role === 'follower') { core.tick(); ticks++ }
      expect(ticks).toBeGreaterThanOrEqual(T)
      expect(ticks).toBeLessThan(2 * T)
      seen.add(ticks)
    }
    // Every value of the range occurs: the timeout really is randomized over it.
    expect(seen.size).toBe(T)
  })

  it('election timeouts of two nodes rarely collide (etcd TestCandidateElectionTimeoutNonconflict)', () => {
    let conflicts = 0
    const rounds = 500
    for (let seed = 0; seed < rounds; seed++) {
      const net = new Network(['a', 'b'], { seed: seed + 1, preVote: false, electionTicks: T, checkQuorum: false })
      // Tick both together until one campaigns; a conflict is both campaigning on the same tick.
      for (let i = 0; i < 2 * T; i++) {
        net.core('a').tick()
        net.core('b').tick()
        const a = net.core('a').status().role
        const b = net.core('b').status().role
        if (a === 'candidate' || b === 'candidate') {
          if (a === 'candidate' && b === 'candidate') conflicts++
          break
        }
      }
    }
    expect(conflicts / rounds).toBeLessThan(0.3)
  })

  it('a cluster of 5 elects exactly one leader and everyone learns it', () => {
    const net = new Network(['a', 'b', 'c', 'd', 'e'], { seed: 7 })
    const leader = net.waitForLeader()
    net.tickAll(3)
    for (const node of net.nodes.values()) expect(node.core.status().leader).toBe(leader)
    const leaders = [...net.nodes.values()].filter((n) => n.core.status().role === 'leader')
    expect(leaders).toHaveLength(1)
  })
})
