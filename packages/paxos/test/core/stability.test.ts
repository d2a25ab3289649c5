import { describe, expect, it } from 'vitest'
import type { NodeId } from '@synod/interfaces'
import { Network } from '../harness/network.js'
import { b, drain, ofType, quiet, soloCore } from '../harness/unit.js'

/** Elects n1 on a fresh network and lets every replica learn it. */
function settled (options: ConstructorParameters<typeof Network>[0] = {}): Network {
  const net = new Network({ seed: 3, ...options })
  net.elect('n1')
  net.run(5)
  return net
}

/** One round in which `fast` ticks `times` times while the others tick once (a clock running ahead). */
function roundWithFastClock (net: Network, fast: NodeId, times: number): void {
  for (let i = 1; i < times; i++) net.tick([fast])
  net.tick()
  net.stabilize()
}

describe('leader stability (pre-vote)', () => {
  it('a follower cut off for many election timeouts rejoins under the same leader and ballot', () => {
    const net = settled()
    const ballot = net.core('n1').status().ballot
    net.isolate('n3')
    net.run(60)
    // Its pre-votes reached nobody, so it never raised its promise.
    expect(net.core('n3').status().promised).toEqual(ballot)
    net.heal()
    net.run(30)
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', ballot })
    for (const node of net.nodes.values()) expect(node.core.status().promised, node.id).toEqual(ballot)
    expect(net.core('n3').status().leader).toBe('n1')
  })

  it('a follower that stops hearing the leader (one-way cut) cannot win others over while they hear it', () => {
    const net = settled({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'] })
    const ballot = net.core('n1').status().ballot
    net.filter = (m) => !(m.from === 'n1' && m.to === 'n3')
    net.run(60)
    net.filter = undefined
    net.run(10)
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', ballot })
    for (const id of ['n2', 'n3', 'n4', 'n5']) expect(net.core(id).status().leader, id).toBe('n1')
  })

  it('a follower whose clock runs far ahead does not depose the leader', () => {
    const net = settled()
    const ballot = net.core('n1').status().ballot
    // Fifteen ticks a round: its election timer fires every round while the leader is healthy.
    for (let i = 0; i < 40; i++) roundWithFastClock(net, 'n2', 15)
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', ballot })
    expect(net.core('n2').status().promised).toEqual(ballot)
  })

  it('a crashed leader is still replaced: the others find no leader and agree to an election', () => {
    const net = settled({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'] })
    net.isolate('n1')
    let leader: string | undefined
    for (let i = 0; i < 60 && leader === undefined; i++) {
      net.run(1, ['n2', 'n3', 'n4', 'n5'])
      leader = ['n2', 'n3', 'n4', 'n5'].find((id) => net.core(id).status().role === 'leader')
    }
    expect(leader).toBeDefined()
    expect(net.core(leader!).status().ballot.round).toBeGreaterThan(1)
  })

  it('without pre-vote the rejoining follower deposes the leader (what the option prevents)', () => {
    const net = settled({ preVote: false })
    const ballot = net.core('n1').status().ballot
    net.isolate('n3')
    net.run(60)
    expect(net.core('n3').status().promised.round).toBeGreaterThan(ballot.round)
    net.heal()
    net.run(30)
    expect(net.core('n1').status().ballot).not.toEqual(ballot)
  })
})

describe('pre-prepare', () => {
  it('an acceptor that hears a leader refuses it and changes nothing', () => {
    const acceptor = soloCore('n2')
    acceptor.step({ type: 'heartbeat', from: 'n1', to: 'n2', ballot: b(3, 'n1'), commit: 0, lastSlot: 0, readSeq: 0, sentTick: 0 })
    drain(acceptor)
    acceptor.step({ type: 'prepare', from: 'n3', to: 'n2', ballot: b(7, 'n3'), fromSlot: 1, transfer: false, pre: true })
    const { messages, readies } = drain(acceptor)
    expect(ofType(messages, 'promise')).toMatchObject([{ to: 'n3', ok: false, pre: true, ballot: b(3, 'n1'), request: b(7, 'n3') }])
    expect(readies.every((rd) => rd.hardState === undefined)).toBe(true)
    expect(acceptor.status()).toMatchObject({ promised: b(3, 'n1'), leader: 'n1' })
  })

  it('an acceptor whose leader went quiet says yes, still without promising', () => {
    const acceptor = soloCore('n2')
    acceptor.step({ type: 'heartbeat', from: 'n1', to: 'n2', ballot: b(3, 'n1'), commit: 0, lastSlot: 0, readSeq: 0, sentTick: 0 })
    drain(acceptor)
    quiet(acceptor)
    acceptor.step({ type: 'prepare', from: 'n3', to: 'n2', ballot: b(4, 'n3'), fromSlot: 1, transfer: false, pre: true })
    const { messages, readies } = drain(acceptor)
    expect(ofType(messages, 'promise')).toMatchObject([{ to: 'n3', ok: true, pre: true, accepted: [] }])
    expect(readies.every((rd) => rd.hardState === undefined)).toBe(true)
    expect(acceptor.status().promised).toEqual(b(3, 'n1'))
  })

  it('a candidate runs phase 1 only after a quorum said yes, above every promise it was told of', () => {
    const candidate = soloCore('n1')
    quiet(candidate, 19)
    const asked = ofType(drain(candidate).messages, 'prepare')
    expect(asked.map((m) => m.pre)).toEqual([true, true])
    expect(candidate.status().promised).toEqual(b(0, ''))
    const request = asked[0]!.ballot
    const yes = (from: string, promised: ReturnType<typeof b>) => ({ type: 'promise' as const, from, to: 'n1', ballot: promised, request, ok: true, pre: true, commit: 0, compacted: 0, accepted: [] })
    candidate.step(yes('n2', b(5, 'n3')))
    const phase1 = ofType(drain(candidate).messages, 'prepare')
    expect(phase1.every((m) => m.pre !== true)).toBe(true)
    expect(phase1[0]!.ballot.round).toBeGreaterThan(5)
    expect(candidate.status().role).toBe('candidate')
  })

  it('a replica that promised another proposer meanwhile drops its own pre-vote instead of duelling', () => {
    const replica = soloCore('n1')
    quiet(replica, 19)
    const request = ofType(drain(replica).messages, 'prepare')[0]!.ballot
    replica.step({ type: 'prepare', from: 'n3', to: 'n1', ballot: b(request.round + 1, 'n3'), fromSlot: 1, transfer: false })
    drain(replica)
    replica.step({ type: 'promise', from: 'n2', to: 'n1', ballot: b(0, ''), request, ok: true, pre: true, commit: 0, compacted: 0, accepted: [] })
    expect(ofType(drain(replica).messages, 'prepare')).toEqual([])
    expect(replica.status()).toMatchObject({ role: 'follower', promised: b(request.round + 1, 'n3') })
  })
})
