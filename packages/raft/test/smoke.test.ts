import { describe, expect, it } from 'vitest'
import { Network } from './harness/network.js'

describe('smoke', () => {
  it('elects a leader and replicates', () => {
    const net = new Network(['a', 'b', 'c'])
    const leader = net.waitForLeader()
    net.propose(leader, 'x')
    net.tickAll(3)
    for (const node of net.nodes.values()) expect(node.appliedCommands()).toEqual(['x'])
  })
})
