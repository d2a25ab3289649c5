import { describe, expect, it } from 'vitest'
import { Network } from '../harness/network.js'
import { flush, makeLeader, ofType, unitNode } from '../harness/unit.js'

const T = 10

describe('ReadIndex (dissertation §6.4)', () => {
  it('waits for the new leader\'s first commit, then for a quorum heartbeat round', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { logTerms: [1, 1], term: 1, preVote: false, checkQuorum: false })
    makeLeader(node, ['a', 'b', 'c'])
    node.core.readIndex('r1')
    let messages = flush(node)
    expect(node.readStates).toEqual([])
    // Not even asked: the leader does not yet know the commit index of its term.
    expect(ofType(messages, 'heartbeat').filter((m) => m.readContext === 'r1')).toEqual([])
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 2, reject: false, index: 3, hintIndex: 0, hintTerm: 0 })
    messages = flush(node)
    expect(node.core.status().commitIndex).toBe(3)
    const heartbeats = ofType(messages, 'heartbeat').filter((m) => m.readContext === 'r1')
    expect(heartbeats.map((m) => m.to).sort()).toEqual(['b', 'c'])
    expect(node.readStates).toEqual([])
    node.core.step({ type: 'heartbeat-response', from: 'c', to: 'a', term: 2, readContext: 'r1', sentTick: 0 })
    flush(node)
    expect(node.readStates).toEqual([{ context: 'r1', index: 3 }])
  })

  it('a quorum acknowledgement confirms every earlier pending read too', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { preVote: false, checkQuorum: false })
    makeLeader(node, ['a', 'b', 'c'])
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    flush(node)
    node.core.readIndex('r1')
    node.core.readIndex('r2')
    flush(node)
    node.core.step({ type: 'heartbeat-response', from: 'b', to: 'a', term: 1, readContext: 'r2', sentTick: 0 })
    flush(node)
    expect(node.readStates.map((r) => r.context)).toEqual(['r1', 'r2'])
  })

  it('a follower\'s read is confirmed by the leader and answered with the leader\'s commit index', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.propose('a', 'x')
    net.core('c').readIndex('follower-read')
    net.deliver()
    expect(net.node('c').readStates).toEqual([{ context: 'follower-read', index: 2 }])
  })

  it('a leader cut off from the quorum cannot confirm a read', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('a')
    net.core('a').readIndex('r')
    net.deliver()
    expect(net.node('a').readStates).toEqual([])
    for (let i = 0; i < 2 * T; i++) { net.tick('a'); net.deliver() }
    // Stepping down fails the read instead of leaving it hanging.
    expect(net.node('a').failedReads).toEqual([{ context: 'r', reason: 'not-leader', leaderHint: undefined }])
  })

  it('a node that knows no leader fails a read at once', () => {
    const node = unitNode('a', ['a', 'b', 'c'])
    node.core.readIndex('r')
    flush(node)
    expect(node.failedReads.map((r) => r.reason)).toEqual(['not-leader'])
  })
})

describe('lease reads', () => {
  it('require check-quorum', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { checkQuorum: false })
    expect(() => { node.core.readIndex('r', { lease: true }) }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('a leader with a valid lease answers without a round trip', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.tickAll(2)
    expect(net.core('a').hasLease()).toBe(true)
    const before = net.delivered.length
    net.core('a').readIndex('lease-read', { lease: true })
    net.processReady('a')
    expect(net.node('a').readStates).toEqual([{ context: 'lease-read', index: 1 }])
    net.deliver()
    expect(net.delivered.slice(before).filter((m) => m.type === 'heartbeat' && m.readContext === 'lease-read')).toEqual([])
  })

  it('the lease runs out electionTicks x (1 - maxClockDrift) after the last heartbeat a quorum acknowledged', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: true, electionTicks: T, maxClockDrift: 0.2 })
    net.elect('a')
    net.tickAll(1)
    net.isolate('a')
    const lease = Math.floor(T * 0.8)
    for (let i = 0; i < lease - 1; i++) net.tick('a')
    expect(net.core('a').hasLease()).toBe(true)
    net.tick('a')
    expect(net.core('a').hasLease()).toBe(false)
    expect(net.core('a').status().role).toBe('leader')
    // Falls back to ReadIndex, which cannot complete without a quorum.
    net.core('a').readIndex('r', { lease: true })
    net.deliver()
    expect(net.node('a').readStates).toEqual([])
  })

  it('no other leader can be elected while the old leader\'s lease is valid', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: true, electionTicks: T, maxClockDrift: 0 })
    net.elect('a')
    net.tickAll(1)
    net.isolate('a')
    for (let i = 0; i < 3 * T; i++) {
      net.tick('a')
      net.tick('b')
      net.tick('c')
      net.deliver()
      const newLeader = ['b', 'c'].some((id) => net.core(id).status().role === 'leader')
      if (newLeader) {
        expect(net.core('a').hasLease()).toBe(false)
        return
      }
    }
    throw new Error('no new leader')
  })

  it('a leader transferring leadership stops trusting its lease', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.tickAll(1)
    net.cut('a', 'b')
    net.core('a').transferLeadership('b')
    expect(net.core('a').hasLease()).toBe(false)
  })
})
