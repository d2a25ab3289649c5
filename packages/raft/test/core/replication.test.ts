import { describe, expect, it } from 'vitest'
import type { LogEntry } from '@synod/interfaces'
import { Network } from '../harness/network.js'
import { data, flush, makeLeader, ofType, unitNode } from '../harness/unit.js'

const entry = (index: number, term: number, text = `${index}/${term}`): LogEntry => ({ index, term, type: 'command', data: data(text) })

describe('log replication (Raft §5.3)', () => {
  it('the leader appends a proposal and sends it with the previous index and term', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { logTerms: [1, 1], term: 1, preVote: false })
    makeLeader(node, ['a', 'b', 'c'])
    // Acknowledge the no-op (index 3, term 2) so both followers are in replicate state.
    for (const peer of ['b', 'c']) node.core.step({ type: 'append-response', from: peer, to: 'a', term: 2, reject: false, index: 3, hintIndex: 0, hintTerm: 0 })
    flush(node)
    const position = node.core.propose(data('x'))
    expect(position).toEqual({ index: 4, term: 2 })
    const appends = ofType(flush(node), 'append')
    expect(appends.map((m) => m.to).sort()).toEqual(['b', 'c'])
    for (const m of appends) {
      expect(m).toMatchObject({ prevIndex: 3, prevTerm: 2, term: 2 })
      expect(m.entries.map((e) => [e.index, e.term])).toEqual([[4, 2]])
    }
    expect(node.log.lastIndex()).toBe(4)
  })

  it('commits once a majority stores an entry, and followers learn the commit', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.isolate('c')
    net.propose('a', 'x')
    expect(net.core('a').status().commitIndex).toBe(2)
    expect(net.node('a').appliedCommands()).toEqual(['x'])
    net.tickAll(2)
    expect(net.core('b').status().commitIndex).toBe(2)
    expect(net.node('b').appliedCommands()).toEqual(['x'])
    expect(net.node('c').appliedCommands()).toEqual([])
    net.heal()
    net.tickAll(2)
    expect(net.node('c').appliedCommands()).toEqual(['x'])
  })

  it('a lone leader does not commit before its own write is durable', () => {
    const node = unitNode('a', ['a'], {})
    node.core.campaign()
    const rd = node.core.ready()
    expect(node.core.status().role).toBe('leader')
    expect(rd.entries.map((e) => e.type)).toEqual(['noop'])
    expect(node.core.status().commitIndex).toBe(0)
    node.log.append(rd.entries)
    node.core.advance(rd)
    expect(node.core.status().commitIndex).toBe(1)
  })

  it('committing an index commits every entry before it; entries are applied in order', () => {
    const node = unitNode('a', ['a', 'b', 'c'], { preVote: false })
    makeLeader(node, ['a', 'b', 'c'])
    for (let i = 0; i < 4; i++) node.core.propose(data(`v${i}`))
    flush(node)
    expect(node.core.status().commitIndex).toBe(0)
    // b acknowledges everything at once (index 5 = no-op + 4 commands).
    node.core.step({ type: 'append-response', from: 'b', to: 'a', term: 1, reject: false, index: 5, hintIndex: 0, hintTerm: 0 })
    flush(node)
    expect(node.core.status().commitIndex).toBe(5)
    expect(node.applied.map((e) => e.index)).toEqual([1, 2, 3, 4, 5])
    expect(node.appliedCommands()).toEqual(['v0', 'v1', 'v2', 'v3'])
  })

  it('a follower commits min(leaderCommit, index of the last new entry)', () => {
    const node = unitNode('b', ['a', 'b', 'c'], { term: 1 })
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, entries: [entry(1, 1), entry(2, 1)], commit: 7 })
    flush(node)
    expect(node.core.status().commitIndex).toBe(2)
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 1, prevIndex: 2, prevTerm: 1, entries: [entry(3, 1)], commit: 1 })
    flush(node)
    expect(node.core.status().commitIndex).toBe(2)
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 1, prevIndex: 3, prevTerm: 1, entries: [], commit: 3 })
    flush(node)
    expect(node.core.status().commitIndex).toBe(3)
    expect(node.applied.map((e) => e.index)).toEqual([1, 2, 3])
  })

  it('a follower rejects an append whose previous entry does not match, with a hint', () => {
    const node = unitNode('b', ['a', 'b', 'c'], { logTerms: [1, 1, 2, 2], term: 3 })
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 3, prevIndex: 4, prevTerm: 3, entries: [entry(5, 3)], commit: 0 })
    const [response] = ofType(flush(node), 'append-response')
    // Index 4 has term 2 <= 3, so it might match: the leader should probe there with its own term for it.
    expect(response).toMatchObject({ reject: true, index: 4, hintIndex: 4, hintTerm: 2 })
    expect(node.log.terms()).toEqual([1, 1, 2, 2])

    node.core.step({ type: 'append', from: 'a', to: 'b', term: 3, prevIndex: 9, prevTerm: 3, entries: [], commit: 0 })
    const [beyond] = ofType(flush(node), 'append-response')
    expect(beyond).toMatchObject({ reject: true, index: 9, hintIndex: 4, hintTerm: 2 })

    node.core.step({ type: 'append', from: 'a', to: 'b', term: 3, prevIndex: 4, prevTerm: 1, entries: [], commit: 0 })
    const [older] = ofType(flush(node), 'append-response')
    // Terms 2 at 4 and 3 are above the leader's term 1 there: skip to index 2.
    expect(older).toMatchObject({ reject: true, index: 4, hintIndex: 2, hintTerm: 1 })
  })

  it('deletes the first conflicting entry and all after it, and never rewrites matching entries', () => {
    const node = unitNode('b', ['a', 'b', 'c'], { logTerms: [1, 1, 1, 1], term: 2 })
    const original2 = node.log.entries[1]
    // Matching prefix shorter than our log: nothing is truncated (a stale, reordered append).
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1, 'other')], commit: 0 })
    flush(node)
    expect(node.log.terms()).toEqual([1, 1, 1, 1])
    expect(node.log.entries[1]).toBe(original2)
    // A conflict at index 3: 3 and 4 go, the new suffix replaces them.
    node.core.step({ type: 'append', from: 'a', to: 'b', term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1), entry(3, 2)], commit: 0 })
    const [response] = ofType(flush(node), 'append-response')
    expect(node.log.terms()).toEqual([1, 1, 2])
    expect(node.log.entries[1]).toBe(original2)
    expect(response).toMatchObject({ reject: false, index: 3 })
  })

  // The paper's Figure 7: a leader for term 8 and six followers with divergent logs.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
  const figure7: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]
  }
  it.each(Object.keys(figure7))('Figure 7 (%s): the divergent follower log converges to the leader\'s', (name) => {
    const follower = figure7[name] ?? []
    const net = new Network(['L', 'X', 'F'], {
      preVote: false,
      // A restarted node (term > 0) refuses votes for one timeout under check-quorum; not the point here.
      checkQuorum: false,
      logs: { L: leaderLog, X: leaderLog, F: follower },
      terms: { L: 7, X: 7, F: 7 }
    })
    net.cut('L', 'F')
    net.elect('L')
    expect(net.core('L').status()).toMatchObject({ role: 'leader', term: 8 })
    net.heal()
    const rejectionsBefore = net.delivered.filter((m) => m.type === 'append-response' && m.reject).length
    net.tickAll(3)
    const rejections = net.delivered.filter((m) => m.type === 'append-response' && m.reject).length - rejectionsBefore
    const expected = [...leaderLog, 8]
    expect(net.node('F').log.terms()).toEqual(expected)
    expect(net.core('F').status().commitIndex).toBe(11)
    // Fast backtracking: at most one rejection per conflicting term, not one per entry.
    expect(rejections).toBeLessThanOrEqual(3)
  })
})
