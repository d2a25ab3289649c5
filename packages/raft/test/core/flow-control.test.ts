import { describe, expect, it } from 'vitest'
import { Network } from '../harness/network.js'
import { flush, makeLeader, ofType, unitNode } from '../harness/unit.js'

const voters = ['a', 'b', 'c']
const bytes = (n: number): Uint8Array => new Uint8Array(n)

describe('flow control', () => {
  it('a follower in probe state has at most one append in flight', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false })
    makeLeader(node, voters)
    expect(node.core.status().progress.b).toMatchObject({ state: 'probe', paused: true })
    node.core.propose(bytes(1))
    node.core.propose(bytes(1))
    expect(ofType(flush(node), 'append')).toEqual([])
    // A heartbeat answer un-pauses the probe: exactly one more append goes out, with everything.
    node.core.step({ type: 'heartbeat-response', from: 'b', to: 'a', term: 1, readContext: '', sentTick: 0 })
    const appends = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    expect(appends).toHaveLength(1)
    expect(appends[0]?.entries.map((e) => e.index)).toEqual([1, 2, 3])
    node.core.propose(bytes(1))
    expect(ofType(flush(node), 'append').filter((m) => m.to === 'b')).toEqual([])
  })

  it('an accepted probe moves the follower to replicate state, which streams up to the window', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false, maxInflightMessages: 3 })
    makeLeader(node, voters)
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    flush(node)
    expect(node.core.status().progress.b?.state).toBe('replicate')
    for (let i = 0; i < 5; i++) node.core.propose(bytes(1))
    const appends = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    expect(appends.map((m) => m.entries.map((e) => e.index))).toEqual([[2], [3], [4]])
    expect(node.core.status().progress.b).toMatchObject({ paused: true, inflightMessages: 3 })
    // Freeing one slot sends the rest in one append.
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 2, hintIndex: 0, hintTerm: 0 })
    const more = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    expect(more.map((m) => m.entries.map((e) => e.index))).toEqual([[5, 6]])
  })

  it('the in-flight window is also bounded in bytes', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false, maxInflightBytes: 250 })
    makeLeader(node, voters)
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    flush(node)
    for (let i = 0; i < 5; i++) node.core.propose(bytes(100))
    const appends = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    // 116 bytes per entry (data + header): the third append fills the window past 250.
    expect(appends).toHaveLength(3)
    expect(node.core.status().progress.b?.inflightBytes).toBe(348)
  })

  it('an append carries at most maxSizePerMessage bytes (but at least one entry)', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false, maxSizePerMessage: 250 })
    makeLeader(node, voters)
    for (let i = 0; i < 6; i++) node.core.propose(bytes(100))
    node.core.propose(bytes(1000))
    flush(node)
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    const appends = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    expect(appends.map((m) => m.entries.length)).toEqual([2, 2, 2, 1])
    expect(appends.at(-1)?.entries[0]?.data.byteLength).toBe(1000)
  })

  it('a rejected append in replicate state falls back to probing', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false })
    makeLeader(node, voters)
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    node.core.propose(bytes(1))
    node.core.propose(bytes(1))
    flush(node)
    // b lost the append ending at 2, so it rejects the one after it (prev 2).
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: true, index: 2, hintIndex: 1, hintTerm: 1 })
    const resent = ofType(flush(node), 'append').filter((m) => m.to === 'b')
    expect(node.core.status().progress.b).toMatchObject({ state: 'probe', next: 2, paused: true })
    expect(resent.map((m) => [m.prevIndex, m.entries.map((e) => e.index)])).toEqual([[1, [2, 3]]])
    // A stale rejection (at or below the match index) changes nothing.
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: true, index: 1, hintIndex: 0, hintTerm: 0 })
    expect(ofType(flush(node), 'append').filter((m) => m.to === 'b')).toEqual([])
  })

  it('proposals beyond the uncommitted bound are rejected until entries commit', () => {
    const net = new Network(voters, { preVote: false, maxUncommittedBytes: 1000 })
    net.elect('a')
    net.isolate('a')
    const a = net.core('a')
    a.propose(bytes(600))
    expect(() => a.propose(bytes(600))).toThrow(expect.objectContaining({ code: 'ERR_OVERLOADED' }))
    a.propose(bytes(300))
    expect(a.status().uncommittedBytes).toBe(900)
    net.heal()
    net.tickAll(2)
    expect(a.status().uncommittedBytes).toBe(0)
    a.propose(bytes(600))
    a.propose(bytes(300))
  })

  it('one proposal larger than the bound is admitted when nothing is outstanding', () => {
    const net = new Network(voters, { preVote: false, maxUncommittedBytes: 1000 })
    net.elect('a')
    expect(net.core('a').propose(bytes(5000)).index).toBe(2)
  })

  it('a follower that cannot be reached leaves replicate state', () => {
    const node = unitNode('a', voters, { preVote: false, checkQuorum: false })
    makeLeader(node, voters)
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 1, hintIndex: 0, hintTerm: 0 })
    node.core.reportUnreachable('b')
    expect(node.core.status().progress.b?.state).toBe('probe')
  })
})
