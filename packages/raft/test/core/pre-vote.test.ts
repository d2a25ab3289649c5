import { describe, expect, it } from 'vitest'
import { Network } from '../harness/network.js'

describe('pre-vote (dissertation §9.6)', () => {
  it('a node rejoining after a partition neither raises terms nor disrupts the stable leader', () => {
    const net = new Network(['a', 'b', 'c'], { seed: 3, preVote: true, checkQuorum: true })
    const leader = net.waitForLeader()
    const other = ['a', 'b', 'c'].find((id) => id !== leader) ?? 'a'
    const term = net.core(leader).status().term
    net.isolate(other)
    // The isolated node times out many times over.
    net.tickAll(100)
    expect(net.core(other).status().term).toBe(term)
    expect(net.core(other).status().role).toBe('pre-candidate')
    net.heal()
    net.tickAll(30)
    expect(net.core(leader).status()).toMatchObject({ role: 'leader', term })
    for (const node of net.nodes.values()) expect(node.core.status()).toMatchObject({ term, leader })
  })

  it('without pre-vote the same rejoin does disrupt the leader (the baseline)', () => {
    const net = new Network(['a', 'b', 'c'], { seed: 3, preVote: false, checkQuorum: false })
    const leader = net.waitForLeader()
    const other = ['a', 'b', 'c'].find((id) => id !== leader) ?? 'a'
    const term = net.core(leader).status().term
    net.isolate(other)
    net.tickAll(100)
    expect(net.core(other).status().term).toBeGreaterThan(term + 3)
    net.heal()
    net.tickAll(30)
    expect(net.core(leader).status().term).toBeGreaterThan(term + 3)
  })

  it('a lagging node still helps elect an up-to-date leader', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: true })
    net.elect('a')
    net.isolate('c')
    net.propose('a', 'x')
    net.propose('a', 'y')
    expect(net.core('c').status().lastIndex).toBeLessThan(net.core('b').status().lastIndex)
    net.heal()
    // a fails; b (up to date) needs c's vote, and c's log is behind b's.
    net.isolate('a')
    for (let i = 0; i < 100 && net.core('b').status().role !== 'leader'; i++) net.tickAll()
    expect(net.core('b').status().role).toBe('leader')
    expect(net.core('c').status().leader).toBe('b')
    expect(net.node('b').appliedCommands()).toEqual(['x', 'y'])
  })

  it('a pre-candidate whose log is behind cannot win and leaves the term unchanged', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true, checkQuorum: false })
    net.elect('a')
    net.isolate('c')
    net.propose('a', 'x')
    net.heal()
    net.isolate('a')
    const term = net.core('b').status().term
    // Only c times out: its pre-vote is refused by b (b's log is longer).
    for (let i = 0; i < 25; i++) { net.tick('c'); net.deliver() }
    expect(net.core('c').status().role).not.toBe('leader')
    expect(net.core('b').status().term).toBe(term)
  })
})
