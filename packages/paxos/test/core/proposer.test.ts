import { describe, expect, it } from 'vitest'
import { decodeSlot } from '../../src/core/index.js'
import type { Accepted, PromiseReply, WireSlot } from '../../src/core/index.js'
import { Network, text } from '../harness/network.js'
import { b, bytes, config3, drain, ofType, soloCore, str } from '../harness/unit.js'

/** The value an accept carries for a slot (accepts carry slots as stored: envelope, then value). */
const value = (_m: { ballot: { round: number } }, e: WireSlot): string => str(decodeSlot(e).data)

const promise = (from: string, request: ReturnType<typeof b>, ok: boolean, accepted: PromiseReply['accepted'] = [], ballot = request): PromiseReply => ({
  type: 'promise', from, to: 'n1', ballot, request, ok, commit: 0, compacted: 0, accepted
})

describe('proposer', () => {
  it('a rejection carries the promised ballot and the proposer jumps past it', () => {
    const proposer = soloCore('n1')
    proposer.campaign()
    const first = ofType(drain(proposer).messages, 'prepare')[0]!
    expect(first.ballot).toEqual(b(1, 'n1'))
    proposer.step(promise('n2', first.ballot, false, [], b(9, 'n3')))
    drain(proposer)
    expect(proposer.status().role).toBe('follower')
    proposer.campaign()
    const second = ofType(drain(proposer).messages, 'prepare')[0]!
    expect(second.ballot.round).toBeGreaterThan(9)
  })

  it('adopts the highest-ballot accepted value, and fills slots no promise holds with no-ops', () => {
    // Five voters: the proposer needs both promises below (with its own) before it leads.
    const proposer = soloCore('n1', { snapshot: { index: 0, term: 0, config: config3(['n1', 'n2', 'n3', 'n4', 'n5']) } })
    proposer.campaign()
    const ballot = ofType(drain(proposer).messages, 'prepare')[0]!.ballot
    proposer.step(promise('n2', ballot, true, [
      { slot: 1, ballot: b(1, 'n2'), type: 'command', data: bytes('old') },
      { slot: 2, ballot: b(1, 'n2'), type: 'command', data: bytes('two') }
    ]))
    proposer.step(promise('n3', ballot, true, [
      { slot: 1, ballot: b(1, 'n3'), type: 'command', data: bytes('newer') },
      { slot: 2, ballot: b(1, 'n3'), type: 'noop', data: bytes('') },
      { slot: 3, ballot: b(1, 'n3'), type: 'command', data: bytes('three') }
    ]))
    const out = drain(proposer)
    expect(proposer.status().role).toBe('leader')
    const accepts = ofType(out.messages, 'accept').filter((m) => m.to === 'n2')
    const slots = accepts.flatMap((m) => m.entries.map((e) => [e.index, e.type, value(m, e)]))
    // Slot 1: b(1,n3) > b(1,n2). Slot 2: the noop at b(1,n3) wins. Slot 3 adopted. Slot 4: the leader's own no-op.
    expect(slots).toEqual([[1, 'command', 'newer'], [2, 'noop', ''], [3, 'command', 'three'], [4, 'noop', '']])
    expect(accepts.every((m) => m.ballot.round === ballot.round && m.ballot.node === 'n1')).toBe(true)
  })

  it('chooses freely only when all promises are empty', () => {
    const proposer = soloCore('n1')
    proposer.campaign()
    const ballot = ofType(drain(proposer).messages, 'prepare')[0]!.ballot
    proposer.step(promise('n2', ballot, true))
    drain(proposer)
    expect(proposer.status().role).toBe('leader')
    const position = proposer.propose(bytes('mine'))
    // Slot 1 is the election no-op; the client's value takes the next free slot.
    expect(position.index).toBe(2)
    const accepts = ofType(drain(proposer).messages, 'accept')
    expect(accepts.some((m) => m.entries.some((e) => e.index === 2 && value(m, e) === 'mine'))).toBe(true)
  })

  it('once a value is chosen, every higher ballot chooses it (many proposers retrying after a decision all learn it)', () => {
    const net = new Network({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'], seed: 3 })
    net.elect('n1')
    net.core('n1').propose(text('decided'))
    net.stabilize()
    const slot = net.node('n1').applied.find((e) => e.type === 'command')!.index
    // Other proposers take over in turn from different majorities, all campaigning at once
    // (duelling), each with a higher ballot than the last.
    const majorities = [['n2', 'n3', 'n4'], ['n3', 'n4', 'n5'], ['n4', 'n5', 'n1'], ['n5', 'n1', 'n2']]
    let lastRound = net.core('n1').status().ballot.round
    for (const side of majorities) {
      net.heal()
      net.partition(side)
      for (const id of side) net.core(id).campaign()
      net.stabilize()
      for (let i = 0; i < 100 && !side.some((id) => net.core(id).status().role === 'leader'); i++) {
        net.tick(side)
        net.stabilize()
      }
      const leader = side.find((id) => net.core(id).status().role === 'leader')
      expect(leader).toBeDefined()
      const round = net.core(leader!).status().ballot.round
      expect(round).toBeGreaterThan(lastRound)
      lastRound = round
      expect(net.node(leader!).applied.find((e) => e.index === slot)?.data).toEqual(text('decided'))
    }
    net.heal()
    net.run(3)
    for (const node of net.nodes.values()) {
      expect(node.applied.find((e) => e.index === slot)?.data).toEqual(text('decided'))
    }
    expect(net.checkAgreement(3)).toEqual([])
  })

  it("the leader's fast path ends at the first rejection", () => {
    const proposer = soloCore('n1')
    proposer.campaign()
    const ballot = ofType(drain(proposer).messages, 'prepare')[0]!.ballot
    proposer.step(promise('n2', ballot, true))
    drain(proposer)
    proposer.propose(bytes('x'))
    drain(proposer)
    const rejection: Accepted = { type: 'accepted', from: 'n3', to: 'n1', ballot: b(ballot.round + 1, 'n3'), request: ballot, ok: false, gap: false, match: 0, voter: true }
    proposer.step(rejection)
    drain(proposer)
    expect(proposer.status().role).toBe('follower')
    expect(() => proposer.propose(bytes('y'))).toThrow(expect.objectContaining({ code: 'ERR_NOT_LEADER' }))
  })

  it('a stable leader runs phase 1 once, then only phase 2 for every later proposal', () => {
    const net = new Network({ seed: 5 })
    net.elect('n1')
    const before = net.delivered.filter((m) => m.type === 'prepare').length
    for (let i = 0; i < 20; i++) {
      net.core('n1').proposeBatch([text(`c${i}`), text(`d${i}`)])
      net.tick()
      net.stabilize()
    }
    expect(net.delivered.filter((m) => m.type === 'prepare').length).toBe(before)
    expect(net.node('n3').commands()).toHaveLength(40)
  })

  it('applies strictly in slot order, exactly once, on every replica', () => {
    const net = new Network({ seed: 9, reorder: true, duplicate: 0.2 })
    net.elect('n1')
    for (let i = 0; i < 30; i++) net.core('n1').propose(text(`v${i}`))
    net.run(5)
    for (const node of net.nodes.values()) {
      const indices = node.applied.map((e) => e.index)
      expect(indices).toEqual(Array.from({ length: indices.length }, (_, i) => i + 1))
      expect(node.commands()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`))
    }
  })
})
