import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

const T = 10

describe('leadership transfer (dissertation §3.10)', () => {
  it('hands leadership to an up-to-date follower at the next term', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true, preVote: true, electionTicks: T })
    net.elect('a')
    net.tickAll(1)
    net.core('a').transferLeadership('b')
    net.deliver()
    expect(net.core('b').status()).toMatchObject({ role: 'leader', term: 2 })
    expect(net.core('a').status()).toMatchObject({ role: 'follower', leader: 'b' })
  })

  it('brings a lagging target up to date first', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('c')
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`)
    net.heal()
    net.core('a').transferLeadership('c')
    net.deliver()
    expect(net.core('c').status().role).toBe('leader')
    expect(net.node('c').appliedCommands()).toEqual(['v0', 'v1', 'v2'])
  })

  it('picks the most caught-up voter when no target is named', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('c')
    net.propose('a', 'x')
    expect(net.core('a').transferLeadership()).toBe('b')
  })

  it('drops proposals while a transfer is pending and aborts it after an election timeout', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true, electionTicks: T })
    net.elect('a')
    net.isolate('c')
    net.core('a').transferLeadership('c')
    expect(() => net.core('a').propose(text('x'))).toThrow(expect.objectContaining({ code: 'ERR_PROPOSAL_DROPPED' }))
    expect(net.core('a').status().leadTransferee).toBe('c')
    for (let i = 0; i < T; i++) { net.tick('a'); net.tick('b'); net.deliver() }
    expect(net.core('a').status()).toMatchObject({ role: 'leader', leadTransferee: undefined })
    expect(net.core('a').propose(text('x')).index).toBeGreaterThan(0)
  })

  it('the target\'s election overrides the followers\' leader lease', () => {
    const net = new Network(['a', 'b', 'c', 'd', 'e'], { checkQuorum: true, preVote: true, electionTicks: T })
    net.elect('a')
    net.tickAll(1)
    net.core('a').transferLeadership('e')
    net.deliver()
    expect(net.core('e').status().role).toBe('leader')
  })

  it('rejects a target that is not a voter', () => {
    const net = new Network(['a', 'b', 'c'])
    net.elect('a')
    expect(() => net.core('a').transferLeadership('zz')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => net.core('b').transferLeadership('c')).toThrow(expect.objectContaining({ code: 'ERR_NOT_LEADER', leaderHint: 'a' }))
  })
})
