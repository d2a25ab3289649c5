import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

describe('reads and leadership', () => {
  it('a read barrier on the leader is confirmed by a phase-2 quorum at its ballot', () => {
    const net = new Network({ seed: 1 })
    net.elect('n1')
    net.core('n1').propose(text('x'))
    net.stabilize()
    const commit = net.core('n1').status().commitIndex
    net.isolate('n1')
    net.core('n1').readIndex('r1')
    net.stabilize()
    expect(net.node('n1').readStates).toEqual([])
    net.heal()
    net.tick(['n1'])
    net.stabilize()
    expect(net.node('n1').readStates).toEqual([{ context: 'r1', index: commit }])
  })

  it('a deposed leader cannot confirm a read', () => {
    const net = new Network({ seed: 2 })
    net.elect('n1')
    net.isolate('n1')
    for (let i = 0; i < 100 && net.core('n2').status().role !== 'leader' && net.core('n3').status().role !== 'leader'; i++) { net.tick(['n2', 'n3']); net.stabilize() }
    net.core('n1').readIndex('stale')
    net.cut('n1', 'n2')
    net.heal()
    net.cut('n1', 'n2')
    net.tick(['n1'])
    net.stabilize()
    expect(net.node('n1').readStates).toEqual([])
    expect(net.core('n1').status().role).not.toBe('leader')
  })

  it('a follower read is confirmed by the leader', () => {
    const net = new Network({ seed: 3 })
    net.elect('n1')
    net.core('n1').propose(text('x'))
    net.stabilize()
    net.core('n3').readIndex('f1')
    net.stabilize()
    net.tick()
    net.stabilize()
    expect(net.node('n3').readStates).toEqual([{ context: 'f1', index: net.core('n1').status().commitIndex }])
  })

  it('the lease serves local reads only within T(1 - drift) of a quorum-acknowledged heartbeat', () => {
    const net = new Network({ seed: 4, electionTicks: 10, maxClockDrift: 0.2 })
    net.elect('n1')
    net.run(2)
    net.core('n1').readIndex('l1', { lease: true })
    net.stabilize()
    expect(net.node('n1').readStates.map((r) => r.context)).toEqual(['l1'])
    // Cut off, the lease runs out after 8 ticks (10 * (1 - 0.2)) from the last acknowledged heartbeat.
    net.isolate('n1')
    for (let i = 0; i < 7; i++) { net.tick(['n1']); net.stabilize() }
    net.core('n1').readIndex('l2', { lease: true })
    net.stabilize()
    expect(net.node('n1').readStates.map((r) => r.context)).toEqual(['l1', 'l2'])
    for (let i = 0; i < 2; i++) { net.tick(['n1']); net.stabilize() }
    net.core('n1').readIndex('l3', { lease: true })
    net.stabilize()
    expect(net.node('n1').failedReads.map((r) => [r.context, r.reason])).toEqual([['l3', 'lease-expired']])
  })

  it('followers refuse other proposers while the leader is heard from (stable leader)', () => {
    const net = new Network({ seed: 5 })
    net.elect('n1')
    net.core('n3').campaign()
    net.stabilize()
    expect(net.core('n1').status().role).toBe('leader')
    expect(net.core('n3').status().role).not.toBe('leader')
  })

  it('transfers leadership to a chosen voter', () => {
    const net = new Network({ seed: 6 })
    net.elect('n1')
    net.core('n1').propose(text('x'))
    net.stabilize()
    expect(net.core('n1').transferLeadership('n3')).toBe('n3')
    net.stabilize()
    expect(net.core('n3').status().role).toBe('leader')
    net.core('n3').propose(text('y'))
    net.run(2)
    expect(net.node('n2').commands()).toEqual(['x', 'y'])
  })

  it('an isolated leader steps down after an election timeout without a quorum (check-quorum)', () => {
    const net = new Network({ seed: 7 })
    net.elect('n1')
    net.isolate('n1')
    for (let i = 0; i < 25; i++) { net.tick(['n1']); net.stabilize() }
    expect(net.core('n1').status().role).not.toBe('leader')
  })
})
