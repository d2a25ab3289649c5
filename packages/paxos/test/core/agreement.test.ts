import { describe, expect, it } from 'vitest'
import { Network, text } from '../harness/network.js'

/** Proposes on whichever node leads, ticking through elections, under the network's faults. */
function drive (net: Network, rounds: number, prefix: string): number {
  let proposed = 0
  for (let i = 0; i < rounds; i++) {
    const leader = net.leader()
    if (leader !== undefined && net.random.next() < 0.7) {
      try {
        leader.core.proposeBatch([text(`${prefix}${i}a`), text(`${prefix}${i}b`)])
        proposed += 2
      } catch { /* lost leadership in between */ }
    }
    // Now and then a second proposer challenges (duelling proposers).
    if (net.random.next() < 0.05) {
      const ids = [...net.nodes.keys()]
      net.core(ids[net.random.int(ids.length)]!).campaign()
    }
    net.tick()
    net.stabilize()
  }
  return proposed
}

describe('agreement', () => {
  it('loss, duplication and reordering never break agreement', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const net = new Network({ seed, loss: 0.2, duplicate: 0.2, reorder: true, ids: seed % 2 === 0 ? ['n1', 'n2', 'n3', 'n4', 'n5'] : ['n1', 'n2', 'n3'] })
      drive(net, 60, `s${seed}.`)
      const quorum = Math.floor(net.nodes.size / 2) + 1
      expect(net.checkAgreement(quorum), `seed ${seed}`).toEqual([])
      // The faults stop: everyone converges on the same applied sequence.
      net.loss = 0
      net.duplicate = 0
      net.run(40)
      const reference = net.node('n1').applied.map((e) => `${e.index}:${e.type}`)
      expect(reference.length).toBeGreaterThan(0)
      for (const node of net.nodes.values()) expect(node.applied.map((e) => `${e.index}:${e.type}`), `seed ${seed} ${node.id}`).toEqual(reference)
      expect(net.checkAgreement(quorum)).toEqual([])
    }
  })

  it('a minority never decides, a majority does', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'], seed: 4 })
    net.elect('n1')
    net.stabilize()
    const committed = net.core('n1').status().commitIndex
    net.partition(['n1', 'n2'])
    net.core('n1').propose(text('minority'))
    net.run(5, ['n1', 'n2'])
    expect(net.core('n1').status().commitIndex).toBe(committed)
    expect(net.node('n1').commands()).not.toContain('minority')
    // A minority cannot elect a leader of its own either.
    for (let i = 0; i < 60; i++) { net.tick(['n1', 'n2']); net.stabilize() }
    expect(['n1', 'n2'].some((id) => net.core(id).status().role === 'leader')).toBe(false)

    for (let i = 0; i < 60 && !['n3', 'n4', 'n5'].some((id) => net.core(id).status().role === 'leader'); i++) { net.tick(['n3', 'n4', 'n5']); net.stabilize() }
    const majorityLeader = ['n3', 'n4', 'n5'].find((id) => net.core(id).status().role === 'leader')!
    net.core(majorityLeader).propose(text('majority'))
    net.run(3, ['n3', 'n4', 'n5'])
    expect(net.node('n3').commands()).toContain('majority')
    net.heal()
    net.run(30)
    for (const node of net.nodes.values()) expect(node.commands()).toContain('majority')
    expect(net.checkAgreement(3)).toEqual([])
  })

  it('an acceptor wiped mid-run never causes two values to be chosen', () => {
    for (let seed = 1; seed <= 15; seed++) {
      const net = new Network({ seed, loss: 0.1, reorder: true })
      drive(net, 20, 'before.')
      // n2 loses its disk (promise and accepted values) and comes back.
      net.node('n2').wipe(net.bootstrap)
      expect(net.core('n2').status().recovering).toBe(true)
      drive(net, 40, 'after.')
      // Losing a majority's state would stall the cluster for good (correctly: it cannot know
      // what was chosen), so the next wipe waits until n2 has recovered.
      for (let i = 0; i < 200 && net.core('n2').status().recovering; i++) drive(net, 1, 'wait.')
      expect(net.core('n2').status().recovering, `seed ${seed}`).toBe(false)
      net.node('n3').wipe(net.bootstrap)
      drive(net, 40, 'later.')
      expect(net.checkAgreement(2), `seed ${seed}`).toEqual([])
      net.loss = 0
      net.run(40)
      expect(net.checkAgreement(2), `seed ${seed}`).toEqual([])
      const reference = net.node('n1').applied.map((e) => `${e.index}:${e.type}`)
      expect(net.node('n2').applied.map((e) => `${e.index}:${e.type}`), `seed ${seed}`).toEqual(reference)
    }
  })

  it('a replica that restarts with empty state does not vote until it has caught up', () => {
    const net = new Network({ seed: 2 })
    net.elect('n1')
    for (let i = 0; i < 10; i++) net.core('n1').propose(text(`v${i}`))
    net.stabilize()
    net.node('n3').wipe(net.bootstrap)
    const seen = net.delivered.length
    // The wiped replica ignores prepares while recovering: a proposer needs someone else.
    net.isolate('n1')
    net.core('n2').campaign()
    net.stabilize()
    expect(net.core('n2').status().role).not.toBe('leader')
    expect(net.delivered.slice(seen).filter((m) => m.type === 'promise' && m.from === 'n3')).toEqual([])
    // Its acknowledgements do not count either: with n2 cut off, the leader cannot commit with n3 alone.
    net.heal()
    net.cut('n1', 'n2')
    const commit = net.core('n1').status().commitIndex
    net.core('n1').propose(text('needs-a-real-vote'))
    net.run(2, ['n1', 'n3'])
    expect(net.core('n1').status().commitIndex).toBe(commit)
    expect(net.delivered.some((m) => m.type === 'accepted' && m.from === 'n3' && !m.voter)).toBe(true)
    // Once caught up it votes again.
    net.heal()
    net.run(60)
    expect(net.core('n3').status().recovering).toBe(false)
    expect(net.node('n3').commands()).toContain('needs-a-real-vote')
  })

  it('a failed persist sends no reply, and the replica resumes from what was durable', () => {
    const net = new Network({ seed: 8 })
    net.elect('n1')
    net.node('n2').failNextPersist = true
    net.node('n3').failNextPersist = true
    net.core('n1').propose(text('x'))
    net.stabilize()
    expect(net.node('n2').persistFailures).toBe(1)
    expect(net.delivered.filter((m) => m.type === 'accepted' && (m.from === 'n2' || m.from === 'n3') && m.match >= 2)).toEqual([])
    expect(net.node('n1').commands()).not.toContain('x')
    // Retransmission after the restart gets the value chosen.
    net.run(5)
    for (const node of net.nodes.values()) expect(node.commands()).toEqual(['x'])
  })
})
