import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

describe('membership changes (dissertation §4)', () => {
  it('a learner receives the log but neither votes nor counts toward commit', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.addNode('l')
    net.core('a').proposeMembership({ type: 'add-learner', id: 'l', address: 'l' })
    net.deliver()
    net.tickAll(2)
    expect(net.core('l').status()).toMatchObject({ role: 'learner', leader: 'a' })
    expect(net.core('a').status().progress.l).toMatchObject({ isLearner: true })
    net.propose('a', 'x')
    expect(net.node('l').appliedCommands()).toEqual(['x'])
    // With b and c gone, a and the learner are not a quorum.
    net.isolate('b')
    net.isolate('c')
    net.propose('a', 'y')
    net.tickAll(2)
    expect(net.node('a').appliedCommands()).toEqual(['x'])
    // A learner never campaigns.
    net.isolate('a')
    net.tickAll(50)
    expect(net.core('l').status().term).toBe(1)
  })

  it('a promoted learner votes and counts', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.addNode('d')
    net.core('a').proposeMembership({ type: 'add-learner', id: 'd', address: 'd' })
    net.deliver()
    net.core('a').proposeMembership({ type: 'promote', id: 'd' })
    net.deliver()
    expect(net.core('a').status().config.voters).toEqual(['a', 'b', 'c', 'd'])
    expect(net.core('d').status().role).toBe('follower')
    // Four voters need three: a and d alone cannot commit, a, b and d can.
    net.isolate('b')
    net.isolate('c')
    net.propose('a', 'x')
    expect(net.node('a').appliedCommands()).toEqual([])
    net.heal()
    net.isolate('c')
    net.tickAll(2)
    expect(net.node('a').appliedCommands()).toEqual(['x'])
  })

  it('replaces the voter set through a joint configuration and leaves it automatically', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.addNode('d')
    net.addNode('e')
    const proposed = net.core('a').proposeMembership({ type: 'joint', voters: ['a', 'd', 'e'], learners: [], addresses: { d: 'd', e: 'e' } })
    expect(proposed.config).toMatchObject({ voters: ['a', 'd', 'e'], outgoingVoters: ['a', 'b', 'c'] })
    const seen: string[][] = []
    for (let i = 0; i < 5; i++) {
      net.tickAll(1)
      const config = net.core('a').status().config
      seen.push([...config.voters, '|', ...(config.outgoingVoters ?? [])])
    }
    expect(net.core('a').status().config).toEqual({ voters: ['a', 'd', 'e'], learners: [], addresses: { a: 'a', d: 'd', e: 'e' } })
    expect(net.core('d').status().config.voters).toEqual(['a', 'd', 'e'])
    // b and c are gone: the new voters alone commit.
    net.isolate('b')
    net.isolate('c')
    net.propose('a', 'x')
    expect(net.node('e').appliedCommands()).toEqual(['x'])
  })

  it('a joint configuration needs a majority of both the old and the new voters', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.addNode('d')
    net.addNode('e')
    // d and e are unreachable. The joint entry commits under the old configuration (it takes effect
    // when applied), but from then on a, b, c alone are no longer enough.
    net.isolate('d')
    net.isolate('e')
    net.core('a').proposeMembership({ type: 'joint', voters: ['a', 'd', 'e'], learners: [], addresses: { d: 'd', e: 'e' } })
    net.tickAll(3)
    expect(net.core('a').status().config.outgoingVoters).toEqual(['a', 'b', 'c'])
    expect(net.core('a').status().commitIndex).toBe(2)
    net.propose('a', 'x')
    net.tickAll(3)
    expect(net.node('a').appliedCommands()).toEqual([])
    net.heal()
    net.tickAll(3)
    expect(net.node('a').appliedCommands()).toEqual(['x'])
    expect(net.core('a').status().config.outgoingVoters).toBeUndefined()
  })

  it('rejects unsafe changes with ERR_INVALID_MEMBERSHIP', () => {
    const net = new Network(['a'], { preVote: false })
    net.elect('a')
    const a = net.core('a')
    const invalid: unknown = expect.objectContaining({ code: 'ERR_INVALID_MEMBERSHIP' })
    expect(() => a.proposeMembership({ type: 'remove', id: 'a' })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'add-voter', id: 'a', address: 'a' })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'promote', id: 'zz' })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'remove', id: 'zz' })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'joint', voters: [], learners: [], addresses: {} })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'joint', voters: ['a', 'x'], learners: ['x'], addresses: { x: 'x' } })).toThrow(invalid)
    expect(() => a.proposeMembership({ type: 'joint', voters: ['a', 'x'], learners: [], addresses: {} })).toThrow(invalid)
    a.proposeMembership({ type: 'add-learner', id: 'l', address: 'l' })
    // The first change is not applied yet: a second one must wait.
    expect(() => a.proposeMembership({ type: 'add-learner', id: 'm', address: 'm' })).toThrow(invalid)
    net.deliver()
    expect(a.proposeMembership({ type: 'add-learner', id: 'm', address: 'm' }).config.learners).toEqual(['l', 'm'])
  })

  it('a leader that removes itself steps down once the change commits, and the rest elect a leader', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, seed: 5 })
    net.elect('a')
    net.core('a').proposeMembership({ type: 'remove', id: 'a' })
    net.deliver()
    expect(net.core('a').status().role).not.toBe('leader')
    net.isolate('a')
    for (let i = 0; i < 100 && !['b', 'c'].some((id) => net.core(id).status().role === 'leader'); i++) net.tickAll()
    const leader = ['b', 'c'].find((id) => net.core(id).status().role === 'leader') ?? 'none'
    expect(net.core(leader).status().config.voters).toEqual(['b', 'c'])
    net.core(leader).propose(text('after'))
    net.deliver()
    expect(net.node('b').appliedCommands()).toEqual(['after'])
  })
})
