import { describe, expect, it } from 'vitest'
import { encodeSlot } from '../../src/core/index.js'
import type { Accept, Prepare } from '../../src/core/index.js'
import { b, bytes, drain, ofType, quiet, soloCore, str } from '../harness/unit.js'

const prepare = (from: string, round: number, fromSlot = 1): Prepare => ({ type: 'prepare', from, to: 'n2', ballot: b(round, from), fromSlot, transfer: false })
const accept = (from: string, round: number, entries: Array<[number, string]>, commit = 0): Accept => ({
  type: 'accept', from, to: 'n2', ballot: b(round, from), commit,
  entries: entries.map(([slot, value]) => encodeSlot(slot, { ballot: b(round, from), type: 'command', data: bytes(value) }))
})

describe('acceptor', () => {
  it('promises only ballots at or above its promise and replies with its highest accepted value', () => {
    const acceptor = soloCore('n2')
    acceptor.step(accept('n1', 3, [[1, 'x']]))
    drain(acceptor)
    acceptor.step(accept('n3', 4, [[1, 'y']]))
    drain(acceptor)
    quiet(acceptor)

    acceptor.step(prepare('n1', 5))
    const [granted] = ofType(drain(acceptor).messages, 'promise')
    expect(granted?.ok).toBe(true)
    expect(granted?.accepted.map((s) => [s.slot, s.ballot, str(s.data)])).toEqual([[1, b(4, 'n3'), 'y']])

    acceptor.step(prepare('n3', 4))
    const [refused] = ofType(drain(acceptor).messages, 'promise')
    expect(refused?.ok).toBe(false)
    expect(refused?.accepted).toEqual([])

    // The same ballot again (a duplicate) is answered the same way.
    acceptor.step(prepare('n1', 5))
    expect(ofType(drain(acceptor).messages, 'promise')[0]?.ok).toBe(true)
  })

  it('persists the promise before the reply leaves (the reply is in the Ready that carries the promise)', () => {
    const acceptor = soloCore('n2')
    acceptor.step(prepare('n1', 2))
    const rd = acceptor.ready()
    expect(rd.hardState?.promised).toEqual(b(2, 'n1'))
    expect(rd.earlyMessages).toEqual([])
    expect(ofType(rd.messages, 'promise')[0]?.ok).toBe(true)
  })

  it('accept succeeds only at or above the promise and raises the promise', () => {
    const acceptor = soloCore('n2')
    acceptor.step(prepare('n1', 5))
    drain(acceptor)
    acceptor.step(accept('n3', 4, [[1, 'low']]))
    const low = drain(acceptor)
    expect(ofType(low.messages, 'accepted')[0]).toMatchObject({ ok: false, ballot: b(5, 'n1') })
    expect(acceptor.status().lastIndex).toBe(0)

    acceptor.step(accept('n3', 7, [[1, 'high']]))
    const high = drain(acceptor)
    expect(ofType(high.messages, 'accepted')[0]).toMatchObject({ ok: true, match: 1 })
    expect(acceptor.status().promised).toEqual(b(7, 'n3'))
    expect(high.readies.some((rd) => rd.hardState?.promised.round === 7 && rd.entries.length === 1)).toBe(true)

    // The raised promise now refuses the ballot it was at before.
    acceptor.step(prepare('n1', 6))
    expect(ofType(drain(acceptor).messages, 'promise')[0]?.ok).toBe(false)
  })

  it('a late accept after a higher prepare is rejected', () => {
    const acceptor = soloCore('n2')
    acceptor.step(prepare('n1', 1))
    drain(acceptor)
    acceptor.step(prepare('n3', 2))
    drain(acceptor)
    acceptor.step(accept('n1', 1, [[1, 'late']]))
    const reply = ofType(drain(acceptor).messages, 'accepted')[0]
    expect(reply).toMatchObject({ ok: false, ballot: b(2, 'n3'), request: b(1, 'n1') })
    expect(acceptor.status().lastIndex).toBe(0)
  })

  it('duplicate accepts are idempotent', () => {
    const acceptor = soloCore('n2')
    acceptor.step(accept('n1', 1, [[1, 'a'], [2, 'b'], [3, 'c']]))
    const first = drain(acceptor)
    expect(first.readies.flatMap((rd) => rd.entries).map((e) => e.index)).toEqual([1, 2, 3])
    // The same batch again, and an older prefix of it: nothing is rewritten, nothing truncated.
    acceptor.step(accept('n1', 1, [[1, 'a'], [2, 'b'], [3, 'c']]))
    acceptor.step(accept('n1', 1, [[1, 'a']]))
    const again = drain(acceptor)
    expect(again.readies.flatMap((rd) => rd.entries)).toEqual([])
    expect(ofType(again.messages, 'accepted').map((m) => [m.ok, m.match])).toEqual([[true, 3], [true, 3]])
    expect(acceptor.status().lastIndex).toBe(3)
  })

  it('a value replaced by a higher ballot is stored with the rest of the suffix, so later votes survive', () => {
    const acceptor = soloCore('n2')
    acceptor.step(accept('n1', 1, [[1, 'a'], [2, 'b'], [3, 'c']]))
    drain(acceptor)
    acceptor.step(accept('n3', 2, [[2, 'B']]))
    const rd = drain(acceptor).readies.find((r) => r.entries.length > 0)
    expect(rd?.entries.map((e) => [e.index, e.term])).toEqual([[2, 2], [3, 1]])
  })

  it('an accept that starts past the log is answered with where to resend from', () => {
    const acceptor = soloCore('n2')
    acceptor.step(accept('n1', 1, [[1, 'a']]))
    acceptor.step(accept('n1', 1, [[3, 'c']]))
    const replies = ofType(drain(acceptor).messages, 'accepted')
    expect(replies[1]).toMatchObject({ ok: false, gap: true, match: 1 })
    expect(acceptor.status().lastIndex).toBe(1)
  })
})
