import { describe, expect, it } from 'vitest'
import type { NodeId } from '@synod/interfaces'
import type { CommitPropagation, RaftMessage } from '../../src/core/index.js'
import { createRaftCore } from '../../src/core/index.js'
import { MemoryLog } from '../harness/memory-log.js'
import { Network, text } from '../harness/network.js'
import { seededRandom } from '../harness/random.js'

/** An append that carries no entries: it only tells the follower the commit index (or probes). */
const commitOnly = (m: RaftMessage): boolean => m.type === 'append' && m.entries.length === 0

function cluster (mode: CommitPropagation, ids: NodeId[] = ['a', 'b', 'c']): Network {
  const net = new Network(ids, { preVote: false, commitPropagation: mode })
  net.elect('a')
  // One heartbeat round, so every follower knows the no-op committed and the leader holds a lease.
  net.tickAll(1)
  return net
}

/** Messages delivered while `action` runs (and the network settles, without ticks). */
function during (net: Network, action: () => void): RaftMessage[] {
  const before = net.delivered.length
  action()
  net.deliver()
  return net.delivered.slice(before)
}

const commitOf = (net: Network, id: NodeId): number => net.core(id).status().commitIndex

describe('commit propagation', () => {
  it('eager: a commit is sent to every follower in an append of its own (2 appends + 2 answers per proposal on 3 nodes)', () => {
    const net = cluster('eager')
    const messages = during(net, () => { net.core('a').propose(text('x')) })
    expect(messages.filter(commitOnly).map((m) => m.to).sort()).toEqual(['b', 'c'])
    expect(messages).toHaveLength(8)
    expect([commitOf(net, 'b'), commitOf(net, 'c')]).toEqual([2, 2])
  })

  it('lazy: a commit sends nothing of its own; followers learn it from the next heartbeat', () => {
    const net = cluster('lazy')
    const messages = during(net, () => { net.core('a').propose(text('x')) })
    expect(messages.filter(commitOnly)).toEqual([])
    // The entries to b and c and their answers: nothing else.
    expect(messages.map((m) => m.type)).toEqual(['append', 'append', 'append-response', 'append-response'])
    expect(commitOf(net, 'a')).toBe(2)
    expect([commitOf(net, 'b'), commitOf(net, 'c')]).toEqual([1, 1])
    expect(net.node('b').appliedCommands()).toEqual([])

    net.tick('a')
    net.deliver()
    expect([commitOf(net, 'b'), commitOf(net, 'c')]).toEqual([2, 2])
    expect(net.node('b').appliedCommands()).toEqual(['x'])
    expect(net.node('c').appliedCommands()).toEqual(['x'])
  })

  it('lazy: the next append that carries entries carries the commit index too', () => {
    const net = cluster('lazy')
    net.propose('a', 'x')
    net.propose('a', 'y')
    // y's append told the followers that x committed; y's own commit waits for the next one.
    expect([commitOf(net, 'b'), commitOf(net, 'c')]).toEqual([2, 2])
    expect(net.node('c').appliedCommands()).toEqual(['x'])
  })

  it('lazy: a follower\'s ReadIndex completes in its own round, without a heartbeat tick', () => {
    const net = cluster('lazy')
    net.propose('a', 'x')
    expect(commitOf(net, 'c')).toBe(1)
    net.core('c').readIndex('r')
    net.deliver()
    // The round's heartbeat carried the commit index; c can apply up to the read index at once.
    expect(net.node('c').readStates).toEqual([{ context: 'r', index: 2 }])
    expect(net.core('c').status().appliedIndex).toBe(2)
    expect(net.node('c').appliedCommands()).toEqual(['x'])
  })

  it('lazy: a follower\'s lease read, answered without a heartbeat round, still tells it the commit index', () => {
    const net = cluster('lazy')
    net.propose('a', 'x')
    expect(net.core('a').hasLease()).toBe(true)
    const messages = during(net, () => { net.core('c').readIndex('r', { lease: true }) })
    expect(messages.filter((m) => m.type === 'heartbeat')).toEqual([])
    expect(net.node('c').readStates).toEqual([{ context: 'r', index: 2 }])
    expect(net.core('c').status().appliedIndex).toBe(2)
    // b waits for nothing and is told nothing.
    expect(commitOf(net, 'b')).toBe(1)
  })

  it('lazy: notifyCommit tells one follower of a commit it holds as soon as the commit happens, even if its answer came last', () => {
    const net = cluster('lazy')
    const { index } = net.core('a').propose(text('x'))
    // What the driver does for a proposal forwarded by c.
    net.core('a').notifyCommit('c', index)
    net.deliver()
    expect(commitOf(net, 'c')).toBe(2)
    expect(net.node('c').appliedCommands()).toEqual(['x'])
    expect(commitOf(net, 'b')).toBe(1)
  })

  it('eager: notifyCommit changes nothing (every commit is sent anyway)', () => {
    const net = cluster('eager')
    const { index } = net.core('a').propose(text('x'))
    net.core('a').notifyCommit('c', index)
    const messages = during(net, () => {})
    expect(messages.filter(commitOnly)).toHaveLength(2)
  })

  it('lazy: adding and removing voters, the leader included, completes without heartbeats', () => {
    const net = cluster('lazy')
    net.addNode('d')
    net.core('a').proposeMembership({ type: 'add-voter', id: 'd', address: 'd' })
    net.deliver()
    // Every member applied the change: followers were told of its commit at once.
    for (const id of ['a', 'b', 'c']) expect(net.core(id).status().config.voters).toEqual(['a', 'b', 'c', 'd'])
    // In either mode the new node is first contacted by a heartbeat, then probed and caught up.
    net.tickAll(1)
    expect(net.core('d').status().config.voters).toEqual(['a', 'b', 'c', 'd'])

    net.core('a').proposeMembership({ type: 'remove', id: 'b' })
    net.deliver()
    for (const id of ['a', 'c', 'd']) expect(net.core(id).status().config.voters).toEqual(['a', 'c', 'd'])

    net.core('a').proposeMembership({ type: 'remove', id: 'a' })
    net.deliver()
    // The leader stepped down after its removal committed, and told c and d before it did.
    expect(net.core('a').status().role).not.toBe('leader')
    for (const id of ['c', 'd']) expect(net.core(id).status().config.voters).toEqual(['c', 'd'])
    net.isolate('a')
    net.isolate('b')
    const leader = net.waitForLeader()
    expect(['c', 'd']).toContain(leader)
    net.propose(leader, 'after')
    net.tickAll(1)
    expect(net.node('c').appliedCommands()).toEqual(['after'])
    expect(net.node('d').appliedCommands()).toEqual(['after'])
  })

  it('lazy: a joint change enters and leaves the joint configuration on every node without heartbeats', () => {
    const net = cluster('lazy')
    net.addNode('d')
    net.addNode('e')
    net.core('a').proposeMembership({ type: 'joint', voters: ['a', 'd', 'e'], learners: [], addresses: { d: 'd', e: 'e' } })
    net.deliver()
    for (const id of ['a', 'd', 'e']) expect(net.core(id).status().config).toEqual({ voters: ['a', 'd', 'e'], learners: [], addresses: { a: 'a', d: 'd', e: 'e' } })
  })

  it('lazy: a follower that never heard of the last commits becomes leader and commits them', () => {
    const net = cluster('lazy')
    net.propose('a', 'x')
    net.propose('a', 'y')
    expect(commitOf(net, 'b')).toBe(2)
    net.isolate('a')
    for (let i = 0; i < 100 && !['b', 'c'].some((id) => net.core(id).status().role === 'leader'); i++) net.tickAll()
    expect(['b', 'c'].filter((id) => net.core(id).status().role === 'leader')).toHaveLength(1)
    // The new leader's no-op committed x and y, and it told the other follower at once (a new
    // leader's first commit is not lazy).
    expect(net.node('b').appliedCommands()).toEqual(['x', 'y'])
    expect(net.node('c').appliedCommands()).toEqual(['x', 'y'])
  })

  it('lazy: a leadership transfer hands over to a target that had not heard of the last commit', () => {
    const net = cluster('lazy')
    net.propose('a', 'x')
    expect(commitOf(net, 'b')).toBe(1)
    net.core('a').transferLeadership('b')
    net.deliver()
    expect(net.core('b').status().role).toBe('leader')
    for (const id of ['a', 'b', 'c']) expect(net.node(id).appliedCommands()).toEqual(['x'])
  })

  it('lazy: a learner learns commits from heartbeats like any follower', () => {
    const net = cluster('lazy')
    net.addNode('l')
    net.core('a').proposeMembership({ type: 'add-learner', id: 'l', address: 'l' })
    net.deliver()
    net.tickAll(1)
    net.propose('a', 'x')
    expect(net.node('l').appliedCommands()).toEqual([])
    net.tickAll(1)
    expect(net.node('l').appliedCommands()).toEqual(['x'])
  })

  it('rejects an unknown mode with ERR_INVALID_ARGUMENT', () => {
    expect(() => createRaftCore({ id: 'a', storage: new MemoryLog(), random: seededRandom(1), commitPropagation: 'sometimes' as CommitPropagation }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error)
  })
})
