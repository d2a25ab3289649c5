import { describe, expect, it } from 'vitest'
import { flush, makeLeader, ofType, unitNode } from '../harness/unit.js'
import { Network } from '../harness/network.js'

const voters = ['a', 'b', 'c']

describe('terms (Raft §5.1)', () => {
  it('every node starts as a follower at term 0', () => {
    const net = new Network(['a', 'b', 'c', 'd', 'e'])
    for (const node of net.nodes.values()) {
      const status = node.core.status()
      expect(status.role).toBe('follower')
      expect(status.term).toBe(0)
      expect(status.leader).toBeUndefined()
    }
  })

  it.each(['follower', 'pre-candidate', 'candidate', 'leader'] as const)('a higher term makes a %s a follower of that term', (role) => {
    const node = unitNode('a', voters, { term: 1, preVote: role === 'pre-candidate' })
    if (role === 'pre-candidate' || role === 'candidate') {
      node.core.tick()
      for (let i = 0; i < 40 && node.core.status().role === 'follower'; i++) node.core.tick()
    } else if (role === 'leader') {
      makeLeader(node, voters)
    }
    expect(node.core.status().role).toBe(role)
    const before = node.core.status().term
    node.core.step({ type: 'heartbeat', from: 'b', to: 'a', term: before + 5, commit: 0, readContext: '', sentTick: 0 })
    const status = node.core.status()
    expect(status.role).toBe('follower')
    expect(status.term).toBe(before + 5)
    expect(status.leader).toBe('b')
  })

  it('a vote request with a higher term moves a leader to that term with no leader known', () => {
    const node = unitNode('a', voters, { checkQuorum: false })
    makeLeader(node, voters)
    node.core.step({ type: 'vote-request', from: 'c', to: 'a', term: 9, preVote: false, lastIndex: 0, lastTerm: 0, transfer: false })
    expect(node.core.status()).toMatchObject({ role: 'follower', term: 9, leader: undefined })
  })

  it('rejects lower-term appends without changing state, answering with its own term', () => {
    const node = unitNode('a', voters, { logTerms: [1, 2], term: 5 })
    const before = node.core.status()
    node.core.step({ type: 'append', from: 'b', to: 'a', term: 3, prevIndex: 2, prevTerm: 2, entries: [{ index: 3, term: 3, type: 'command', data: new Uint8Array() }], commit: 3 })
    const messages = flush(node)
    const after = node.core.status()
    expect(after.term).toBe(5)
    expect(after.lastIndex).toBe(before.lastIndex)
    expect(after.commitIndex).toBe(0)
    expect(after.leader).toBeUndefined()
    expect(node.log.terms()).toEqual([1, 2])
    // The answer carries term 5 so the stale leader learns it is deposed.
    expect(ofType(messages, 'append-response')).toEqual([expect.objectContaining({ to: 'b', term: 5 })])
  })

  it('rejects lower-term vote requests without granting or changing its vote', () => {
    const node = unitNode('a', voters, { term: 5, preVote: false })
    node.core.step({ type: 'vote-request', from: 'b', to: 'a', term: 4, preVote: false, lastIndex: 10, lastTerm: 4, transfer: false })
    const messages = flush(node)
    expect(ofType(messages, 'vote-response').filter((m) => m.granted)).toEqual([])
    expect(node.core.status()).toMatchObject({ term: 5, vote: null })
  })

  it('heartbeats never carry a commit index above the follower\'s match index', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    // c misses everything from here on.
    net.isolate('c')
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`)
    const status = net.core('a').status()
    expect(status.commitIndex).toBe(6)
    const cMatch = status.progress.c?.match ?? -1
    net.heal()
    net.core('a').tick()
    net.processReady('a')
    const sent = ofType(net.queue, 'heartbeat')
    const toC = sent.find((m) => m.to === 'c')
    const toB = sent.find((m) => m.to === 'b')
    expect(toC?.commit).toBe(cMatch)
    expect(toC?.commit).toBeLessThan(6)
    expect(toB?.commit).toBe(6)
  })
})
