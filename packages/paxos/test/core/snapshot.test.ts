import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

describe('snapshots, compaction and catch-up', () => {
  it('compaction never deletes slots not covered by a durable checkpoint', () => {
    const net = new Network({ seed: 1 })
    net.elect('n1')
    for (let i = 0; i < 10; i++) net.core('n1').propose(text(`v${i}`))
    net.stabilize()
    const node = net.node('n1')
    // No checkpoint yet: nothing may go.
    expect(() => node.core.compact(5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const point = node.checkpoint()
    expect(point.index).toBe(11)
    // Past the checkpoint is refused too; up to it is fine.
    expect(() => node.core.compact(point.index + 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    node.compact(6)
    expect(node.core.status().firstIndex).toBe(7)
    node.compact(point.index)
    expect(node.core.status().firstIndex).toBe(12)
  })

  it('a lagging replica catches up from the leader by accepts alone when the slots are still there', () => {
    const net = new Network({ seed: 2 })
    net.elect('n1')
    net.isolate('n3')
    for (let i = 0; i < 50; i++) net.core('n1').propose(text(`v${i}`))
    net.run(3)
    expect(net.node('n3').commands()).toHaveLength(0)
    net.heal()
    net.run(5)
    expect(net.node('n3').commands()).toEqual(net.node('n1').commands())
  })

  it('sends a snapshot to a replica whose needed slots were compacted, and it then follows the log', () => {
    const net = new Network({ seed: 3 })
    net.elect('n1')
    net.isolate('n3')
    for (let i = 0; i < 30; i++) net.core('n1').propose(text(`v${i}`))
    net.run(3)
    const leader = net.node('n1')
    const point = leader.checkpoint()
    leader.compact(point.index)
    net.heal()
    net.core('n1').propose(text('after'))
    net.run(5)
    const lagging = net.node('n3')
    expect(lagging.snapshot.index).toBe(point.index)
    expect(lagging.core.status().firstIndex).toBe(point.index + 1)
    expect(lagging.commands()).toEqual(leader.commands())
    expect(lagging.commands().at(-1)).toBe('after')
  })

  it('a replica restarts from its durable state and replays nothing twice', () => {
    const net = new Network({ seed: 4 })
    net.elect('n1')
    for (let i = 0; i < 5; i++) net.core('n1').propose(text(`v${i}`))
    net.stabilize()
    const node = net.node('n2')
    node.checkpoint()
    node.compact(3)
    node.restart()
    net.core('n1').propose(text('v5'))
    net.run(3)
    expect(node.applied.map((e) => e.index)).toEqual(Array.from({ length: node.applied.length }, (_, i) => i + 1))
    expect(node.commands()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5'])
  })
})
