import { describe, expect, it } from 'vitest'
import type { LogEntry } from '@synod/interfaces'
import type { Network as NetworkType } from '../harness/network.js'
import { Network } from '../harness/network.js'
import { flush, makeLeader, ofType, unitNode } from '../harness/unit.js'

/** Raft's State Machine Safety: no two nodes applied different entries at the same index. */
function expectAppliedAgree (net: NetworkType): void {
  const byIndex = new Map<number, LogEntry>()
  for (const node of net.nodes.values()) {
    for (const entry of node.applied) {
      const other = byIndex.get(entry.index)
      if (other === undefined) byIndex.set(entry.index, entry)
      else expect([entry.index, entry.term]).toEqual([other.index, other.term])
    }
  }
}

describe('safety (Raft §5.4)', () => {
  it.each([
    [{ lastIndex: 5, lastTerm: 1 }, false],
    [{ lastIndex: 2, lastTerm: 2 }, false],
    [{ lastIndex: 3, lastTerm: 2 }, true],
    [{ lastIndex: 1, lastTerm: 3 }, true]
  ])('a voter with log [1,1,2] answers a candidate with %j: granted=%s', (candidate, granted) => {
    const node = unitNode('a', ['a', 'b', 'c'], { logTerms: [1, 1, 2], preVote: false, checkQuorum: false })
    node.core.step({ type: 'vote-request', from: 'b', to: 'a', term: 3, preVote: false, transfer: false, ...candidate })
    const [response] = ofType(flush(node), 'vote-response')
    expect(response?.granted).toBe(granted)
    expect(node.core.status().vote).toBe(granted ? 'b' : null)
  })

  it('Figure 8 (unit): a leader commits an older-term entry only through an entry of its own term', () => {
    // a was leader of term 2 and wrote index 2; it is now re-elected for term 4.
    const node = unitNode('a', ['a', 'b', 'c', 'd', 'e'], { logTerms: [1, 2], term: 3, preVote: false })
    makeLeader(node, ['a', 'b', 'c', 'd', 'e'])
    expect(node.core.status()).toMatchObject({ role: 'leader', term: 4, lastIndex: 3 })
    for (const peer of ['b', 'c']) {
      node.core.step({ type: 'append-response', from: peer, to: 'a', term: 4, reject: false, index: 2, hintIndex: 0, hintTerm: 0 })
    }
    flush(node)
    // Index 2 is on a majority (a, b, c) but has term 2: counting replicas must not commit it.
    expect(node.core.status().commitIndex).toBe(0)
    for (const peer of ['b', 'c']) {
      node.core.step({ type: 'append-response', from: peer, to: 'a', term: 4, reject: false, index: 3, hintIndex: 0, hintTerm: 0 })
    }
    flush(node)
    expect(node.core.status().commitIndex).toBe(3)
    expect(node.applied.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 2], [3, 4]])
  })

  // Figure 8 (c)-(d) as a cluster: S1 leads term 4 and gets its term-2 entry onto a majority; it is
  // not committed, and S5 (last term 3) may rightly overwrite it.
  function figure8 (): Network {
    const net = new Network(['s1', 's2', 's3', 's4', 's5'], {
      preVote: false,
      checkQuorum: false,
      logs: { s1: [1, 2], s2: [1, 2], s3: [1], s4: [1], s5: [1, 3] },
      terms: { s1: 3, s2: 3, s3: 3, s4: 3, s5: 4 }
    })
    net.cut('s1', 's5')
    net.cut('s1', 's4')
    // S1's appends lose every entry of its own term in flight: only index 2 (term 2) arrives.
    net.rewrite((m) => m.type === 'append' && m.from === 's1' ? { ...m, entries: m.entries.filter((e) => e.term !== 4) } : m)
    net.elect('s1')
    expect(net.core('s1').status()).toMatchObject({ role: 'leader', term: 4 })
    net.tickAll(2)
    return net
  }

  it('Figure 8 (cluster): an old-term entry stored on a majority is not committed, and a later leader may overwrite it', () => {
    const net = figure8()
    const s1 = net.core('s1').status()
    expect(s1.progress.s2?.match).toBe(2)
    expect(s1.progress.s3?.match).toBe(2)
    expect(net.node('s3').log.terms()).toEqual([1, 2])
    expect(s1.commitIndex).toBe(0)
    for (const node of net.nodes.values()) expect(node.applied).toEqual([])

    // S1 crashes; S5 (last log term 3) wins with S2, S3, S4 and overwrites index 2 everywhere.
    net.heal()
    net.isolate('s1')
    net.elect('s5')
    expect(net.core('s5').status()).toMatchObject({ role: 'leader', term: 5 })
    net.tickAll(2)
    for (const id of ['s2', 's3', 's4', 's5']) expect(net.node(id).log.terms()).toEqual([1, 3, 5])
    net.heal()
    net.tickAll(3)
    expect(net.node('s1').log.terms()).toEqual([1, 3, 5])
    expectAppliedAgree(net)
  })

  it('Figure 8 (e): once the leader\'s current-term entry is on a majority, S5 can no longer win', () => {
    const net = figure8()
    net.rewrite(undefined)
    net.tickAll(2)
    expect(net.core('s1').status().commitIndex).toBe(3)
    net.heal()
    net.isolate('s1')
    net.elect('s5')
    expect(net.core('s5').status().role).not.toBe('leader')
    const others = ['s2', 's3', 's4', 's5']
    for (let i = 0; i < 100 && !others.some((id) => net.core(id).status().role === 'leader'); i++) net.tickAll()
    const leader = others.find((id) => net.core(id).status().role === 'leader')
    expect(['s2', 's3']).toContain(leader)
    net.heal()
    net.tickAll(3)
    for (const node of net.nodes.values()) expect(node.log.terms().slice(0, 3)).toEqual([1, 2, 4])
    expectAppliedAgree(net)
  })

  it('a new leader overwrites a follower\'s uncommitted entries of a higher term than its own last', () => {
    const net = new Network(['L', 'X', 'F'], {
      preVote: false,
      checkQuorum: false,
      logs: { L: [1, 1], X: [1, 1], F: [1, 1, 3, 3] },
      terms: { L: 3, X: 3, F: 3 }
    })
    net.cut('L', 'F')
    net.elect('L')
    expect(net.core('L').status()).toMatchObject({ role: 'leader', term: 4 })
    net.heal()
    net.tickAll(3)
    expect(net.node('F').log.terms()).toEqual([1, 1, 4])
    expectAppliedAgree(net)
  })

  it('messages from a deposed leader are ignored and tell it the new term', () => {
    // Answering a stale leader with the new term is done when pre-vote (or check-quorum) is on.
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: false })
    net.elect('a')
    net.isolate('a')
    net.elect('b')
    expect(net.core('b').status()).toMatchObject({ role: 'leader', term: 2 })
    const cLog = net.node('c').log.terms()
    net.heal()
    // An append a sent at term 1 arrives late at c.
    net.send({ type: 'append', from: 'a', to: 'c', term: 1, prevIndex: 1, prevTerm: 1, entries: [{ index: 2, term: 1, type: 'command', data: new Uint8Array([1]) }], commit: 2 })
    expect(net.node('c').log.terms()).toEqual(cLog)
    expect(net.core('c').status()).toMatchObject({ term: 2, leader: 'b' })
    // c answered with term 2, which deposed a.
    expect(net.core('a').status()).toMatchObject({ role: 'follower', term: 2 })
  })

  it('duelling candidates: a candidate with a shorter log cannot win (etcd TestDuelingCandidates)', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: false })
    net.cut('a', 'c')
    net.elect('a')
    net.elect('c')
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 })
    expect(net.core('c').status()).toMatchObject({ role: 'candidate', term: 1 })
    net.heal()
    // c campaigns again at term 2; a and b hold a committed entry c lacks.
    net.elect('c')
    expect(net.core('c').status().role).not.toBe('leader')
    expect(net.core('a').status()).toMatchObject({ role: 'follower', term: 2 })
    const leader = net.waitForLeader()
    expect(leader).not.toBe('c')
    net.tickAll(2)
    expect(net.node('c').log.terms()[0]).toBe(1)
    expectAppliedAgree(net)
  })
})
