import { describe, expect, it } from 'vitest'
import { Network } from '../harness/network.js'

const T = 10

describe('check-quorum (dissertation §6.2)', () => {
  it('a leader without contact with a quorum for an election timeout steps down', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('a')
    for (let i = 0; i < T; i++) net.tick('a')
    expect(net.core('a').status().role).toBe('leader')
    for (let i = 0; i < T; i++) net.tick('a')
    expect(net.core('a').status()).toMatchObject({ role: 'follower', term: 1, leader: undefined })
  })

  it('a leader in contact with a quorum stays leader', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('c')
    net.tickAll(5 * T)
    expect(net.core('a').status().role).toBe('leader')
  })

  it('without check-quorum an isolated leader keeps believing it leads (the baseline)', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: false, electionTicks: T })
    net.elect('a')
    net.isolate('a')
    for (let i = 0; i < 5 * T; i++) net.tick('a')
    expect(net.core('a').status().role).toBe('leader')
  })

  it('followers that heard from the leader within the timeout ignore vote requests', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.cut('a', 'c')
    // c campaigns at term 2; b heard from a just now and ignores it.
    net.elect('c')
    expect(net.core('b').status()).toMatchObject({ term: 1, leader: 'a', vote: 'a' })
    expect(net.core('c').status()).toMatchObject({ role: 'candidate', term: 2 })
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 })
  })

  it('a stuck higher-term candidate cannot deadlock the cluster (etcd TestFreeStuckCandidateWithCheckQuorum)', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('a')
    net.elect('c')
    net.elect('c')
    expect(net.core('c').status()).toMatchObject({ role: 'candidate', term: 3 })
    expect(net.core('b').status().term).toBe(1)
    net.heal()
    // a's next heartbeat reaches c, whose answer carries term 3: a steps down.
    net.tick('a')
    net.deliver()
    expect(net.core('a').status()).toMatchObject({ role: 'follower', term: 3 })
    // The cluster elects a leader again.
    const leader = net.waitForLeader()
    expect(net.core(leader).status().term).toBeGreaterThanOrEqual(3)
    net.propose(leader, 'x')
    for (const node of net.nodes.values()) expect(node.appliedCommands()).toEqual(['x'])
  })
})
