import { describe, expect, it } from 'vitest'
import type { Accepted, PaxosCore, PromiseReply } from '../../src/core/index.js'
import { bytes, drain, ofType, soloCore, str } from '../harness/unit.js'
import type { b } from '../harness/unit.js'

const promise = (from: string, request: ReturnType<typeof b>): PromiseReply => ({
  type: 'promise', from, to: 'n1', ballot: request, request, ok: true, commit: 0, compacted: 0, accepted: []
})

const accepted = (from: string, request: ReturnType<typeof b>, match: number): Accepted => ({
  type: 'accepted', from, to: 'n1', ballot: request, request, ok: true, gap: false, match, voter: true
})

/** n1 leads at ballot (1, n1) with its election no-op at slot 1 chosen and applied. */
function leader (): { core: PaxosCore, ballot: ReturnType<typeof b> } {
  const core = soloCore('n1')
  core.campaign()
  const ballot = ofType(drain(core).messages, 'prepare')[0]!.ballot
  core.step(promise('n2', ballot))
  drain(core)
  core.step(accepted('n2', ballot, 1))
  drain(core)
  expect(core.status().commitIndex).toBe(1)
  return { core, ballot }
}

describe('what may leave while a Ready is being written (takeEarly)', () => {
  it("hands out the leader's new accepts and newly chosen slots before its own write finishes, and never twice", () => {
    const { core, ballot } = leader()
    core.propose(bytes('a'))
    const inFlight = core.ready() // slot 2 is being written: not advanced
    expect(inFlight.entries.map((e) => e.index)).toEqual([2])
    core.propose(bytes('b'))
    const early = core.takeEarly()
    const accepts = ofType(early.messages, 'accept')
    expect(accepts.map((m) => m.to).sort()).toEqual(['n2', 'n3'])
    expect(accepts.every((m) => m.entries.length === 1 && m.entries[0]!.index === 3)).toBe(true)
    expect(early.committedEntries).toEqual([])
    // Two acceptors durably hold slots 2 and 3: chosen without the leader's own vote.
    core.step(accepted('n2', ballot, 3))
    core.step(accepted('n3', ballot, 3))
    const chosen = core.takeEarly()
    expect(chosen.committedEntries.map((e) => [e.index, str(e.data)])).toEqual([[2, 'a'], [3, 'b']])
    // Nothing taken early comes again in the next Ready.
    core.advance(inFlight)
    const next = core.ready()
    expect(next.committedEntries).toEqual([])
    expect(ofType(next.earlyMessages, 'accept').some((m) => m.entries.some((e) => e.index === 3))).toBe(false)
    expect(next.entries.map((e) => e.index)).toEqual([3])
  })

  it('takes no accepts that rely on a promise not yet handed out for writing', () => {
    const { core } = leader()
    // A new election: the new promise is only in the core until the next Ready persists it.
    core.campaign()
    const ballot = core.status().ballot
    core.step(promise('n2', ballot))
    expect(core.status().role).toBe('leader')
    expect(core.takeEarly().messages).toEqual([])
    const rd = core.ready()
    expect(rd.hardState?.promised).toEqual(ballot)
    expect(ofType(rd.messages, 'accept').length).toBeGreaterThan(0)
  })
})
