import { describe, expect, it } from 'vitest'
import { createPaxosCore, quorumSizes } from '../../src/core/index.js'
import { Network, text } from '../harness/network.js'
import { config3 } from '../harness/unit.js'
import { seededRandom } from '../harness/random.js'

const five = config3(['n1', 'n2', 'n3', 'n4', 'n5'])

describe('configuration', () => {
  it('flexible quorums are rejected at configuration unless every phase-1 quorum meets every phase-2 quorum', () => {
    expect(quorumSizes(5, {})).toEqual({ phase1: 3, phase2: 3 })
    expect(quorumSizes(5, { phase1Quorum: 4, phase2Quorum: 2 })).toEqual({ phase1: 4, phase2: 2 })
    expect(() => quorumSizes(5, { phase1Quorum: 3, phase2Quorum: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => createPaxosCore({ id: 'n1', random: seededRandom(1), snapshot: { index: 0, term: 0, config: five }, phase1Quorum: 2, phase2Quorum: 3 }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => createPaxosCore({ id: 'n1', random: seededRandom(1), snapshot: { index: 0, term: 0, config: five }, phase1Quorum: 0 }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('with phase-2 quorums of two out of five, two acceptors choose and a four-acceptor phase 1 still finds the value', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'], seed: 6, phase1Quorum: 4, phase2Quorum: 2 })
    net.elect('n1')
    net.partition(['n1', 'n2'])
    net.core('n1').propose(text('small-quorum'))
    net.run(2, ['n1', 'n2'])
    expect(net.node('n1').commands()).toEqual(['small-quorum'])
    // A three-node side cannot run phase 1 with these quorums.
    for (let i = 0; i < 60; i++) { net.tick(['n3', 'n4', 'n5']); net.stabilize() }
    expect(['n3', 'n4', 'n5'].some((id) => net.core(id).status().role === 'leader')).toBe(false)
    // n2 plus three others can, and the new leader keeps the value.
    net.heal()
    net.isolate('n1')
    for (let i = 0; i < 100 && !['n2', 'n3', 'n4', 'n5'].some((id) => net.core(id).status().role === 'leader'); i++) { net.tick(['n2', 'n3', 'n4', 'n5']); net.stabilize() }
    const leader = ['n2', 'n3', 'n4', 'n5'].find((id) => net.core(id).status().role === 'leader')!
    expect(net.node(leader).commands()).toEqual(['small-quorum'])
    expect(net.checkAgreement(2)).toEqual([])
  })

  it('a membership change takes effect the activation window later, and the removed node stops counting', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3', 'n4'], seed: 7, activationWindow: 8 })
    net.elect('n1')
    const position = net.core('n1').proposeMembership({ type: 'remove', id: 'n4' })
    // Only one change may be pending.
    expect(() => net.core('n1').proposeMembership({ type: 'remove', id: 'n3' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MEMBERSHIP' }))
    net.run(3)
    const status = net.core('n1').status()
    expect(status.commitIndex).toBeGreaterThanOrEqual(position.index + 8 - 1)
    expect(status.config.voters).toEqual(['n1', 'n2', 'n3'])
    // Now two of n1..n3 are a majority even with n4 gone.
    net.isolate('n4')
    net.cut('n1', 'n3')
    net.core('n1').propose(text('three-voters'))
    net.run(3, ['n1', 'n2'])
    expect(net.node('n1').commands()).toContain('three-voters')
  })

  it('adds a learner, promotes it, and the new voter receives the whole log', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3', 'n4'], seed: 8, activationWindow: 4 })
    // Start n4 outside the group: a three-voter bootstrap on every node.
    const three = config3(['n1', 'n2', 'n3'])
    for (const node of net.nodes.values()) { node.snapshot = { index: 0, term: 0, config: three }; node.restart() }
    net.elect('n1')
    for (let i = 0; i < 5; i++) net.core('n1').propose(text(`v${i}`))
    net.run(2)
    expect(net.node('n4').commands()).toEqual([])
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4', address: 'n4' })
    net.run(3)
    expect(net.node('n4').commands()).toEqual(net.node('n1').commands())
    net.core('n1').proposeMembership({ type: 'promote', id: 'n4' })
    net.run(3)
    expect(net.core('n1').status().config.voters).toEqual(['n1', 'n2', 'n3', 'n4'])
    // Four voters: a majority is three, so n1 with n4 alone cannot choose.
    net.partition(['n1', 'n4'])
    net.core('n1').propose(text('needs-three'))
    net.run(2, ['n1', 'n4'])
    expect(net.node('n1').commands()).not.toContain('needs-three')
    net.heal()
    net.run(3)
    expect(net.node('n4').commands()).toEqual(net.node('n1').commands())
    expect(net.node('n4').commands()).toContain('needs-three')
  })

  it('refuses a membership change that would break the quorum rule', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3'], seed: 9, phase1Quorum: 2, phase2Quorum: 2 })
    net.elect('n1')
    expect(() => net.core('n1').proposeMembership({ type: 'add-voter', id: 'n4', address: 'n4' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MEMBERSHIP' }))
  })
})
