import { describe, expect, it } from 'vitest'
import { checkHistory, createKvModel, formatReport, type HistoryOpInit } from '../src/index.js'

const model = createKvModel()
const check = (history: HistoryOpInit[]): ReturnType<typeof checkHistory> => checkHistory(history, { model })
const put = (client: number, value: unknown, call: number, ret: number | null, extra: Partial<HistoryOpInit> = {}): HistoryOpInit =>
  ({ client, op: 'put', key: 'x', value: value as HistoryOpInit['value'], call, return: ret, ...extra })
const get = (client: number, output: unknown, call: number, ret: number | null, extra: Partial<HistoryOpInit> = {}): HistoryOpInit =>
  ({ client, op: 'get', key: 'x', output: output as HistoryOpInit['output'], call, return: ret, ...extra })
const cas = (client: number, expected: unknown, value: unknown, ok: boolean, call: number, ret: number | null): HistoryOpInit =>
  ({ client, op: 'cas', key: 'x', expected: expected as HistoryOpInit['expected'], value: value as HistoryOpInit['value'], ok, call, return: ret })

describe('kv model: hand-made histories', () => {
  it('accepts an empty history and a sequential one', () => {
    expect(check([]).verdict).toBe('linearizable')
    expect(check([put(1, 1, 0, 10), get(2, 1, 20, 30), { client: 1, op: 'del', key: 'x', call: 40, return: 50 }, get(2, null, 60, 70)]).verdict).toBe('linearizable')
  })

  describe('stale read', () => {
    it('rejects a read of a value overwritten before the read was called, and explains it', () => {
      const result = check([put(1, 1, 0, 10), put(1, 2, 20, 30), get(2, 1, 40, 50)])
      expect(result.verdict).toBe('not-linearizable')
      expect(result.failingKeys).toEqual(['x'])
      const violation = result.violation!
      expect(violation.key).toBe('x')
      expect(violation.linearized.map((step) => step.op)).toEqual([0, 1])
      expect(violation.state).toBe('2')
      expect(violation.blocking).toBe(2)
      expect(violation.candidates).toEqual([{ op: 2, reason: 'read 1, but the key held 2' }])
      const report = formatReport(result, model)
      expect(report).toMatch(/^NOT LINEARIZABLE/)
      expect(report).toContain('#2 client 2 [40ns, 50ns] get x -> 1')
      expect(report).toContain('read 1, but the key held 2')
    })

    it('accepts the old value when the read overlaps the overwrite', () => {
      expect(check([put(1, 1, 0, 10), put(1, 2, 20, 30), get(2, 1, 25, 50)]).verdict).toBe('linearizable')
    })

    it('treats operations that touch at one instant as concurrent', () => {
      expect(check([put(1, 1, 0, 10), put(1, 2, 20, 30), get(2, 1, 30, 50)]).verdict).toBe('linearizable')
      expect(check([put(1, 1, 0, 10), put(1, 2, 20, 30), get(2, 1, 31, 50)]).verdict).toBe('not-linearizable')
    })
  })

  describe('lost update', () => {
    it('rejects an acknowledged write that a later read does not see', () => {
      expect(check([put(1, 1, 0, 10), get(2, null, 20, 30)]).verdict).toBe('not-linearizable')
    })

    it('rejects a counter whose acknowledged increment is lost', () => {
      // Two increments by cas, both acknowledged, then a read that shows only the first.
      expect(check([put(0, 0, 0, 5), cas(1, 0, 1, true, 10, 20), cas(2, 1, 2, true, 30, 40), get(3, 1, 50, 60)]).verdict).toBe('not-linearizable')
      expect(check([put(0, 0, 0, 5), cas(1, 0, 1, true, 10, 20), cas(2, 1, 2, true, 30, 40), get(3, 2, 50, 60)]).verdict).toBe('linearizable')
    })

    it('accepts a read concurrent with the write that still sees the old state', () => {
      expect(check([put(1, 1, 0, 30), get(2, null, 10, 20), get(2, 1, 40, 50)]).verdict).toBe('linearizable')
    })
  })

  describe('compare-and-set', () => {
    it('rejects two successful cas from the same value', () => {
      const result = check([put(0, 0, 0, 10), cas(1, 0, 1, true, 20, 40), cas(2, 0, 2, true, 25, 45)])
      expect(result.verdict).toBe('not-linearizable')
      expect(result.violation!.candidates.map((candidate) => candidate.reason)).toContain('swapped, but the key held 1, not the expected 0')
    })

    it('accepts one winner and one loser', () => {
      expect(check([put(0, 0, 0, 10), cas(1, 0, 1, true, 20, 40), cas(2, 0, 2, false, 25, 45), get(3, 1, 50, 60)]).verdict).toBe('linearizable')
    })

    it('rejects a cas that reports no swap although the value matched', () => {
      expect(check([put(0, 0, 0, 10), cas(1, 0, 1, false, 20, 40)]).verdict).toBe('not-linearizable')
    })

    it('treats expected null as create-if-absent', () => {
      expect(check([cas(1, null, 'a', true, 0, 10), cas(2, null, 'b', false, 20, 30), get(3, 'a', 40, 50)]).verdict).toBe('linearizable')
    })
  })

  describe('a value seen, then unseen', () => {
    it('rejects reads that go back to the old value after the new one was seen', () => {
      expect(check([put(1, 1, 0, 100), get(2, 1, 10, 20), get(3, null, 30, 40)]).verdict).toBe('not-linearizable')
    })

    it('accepts the reads in the other order (the write took effect between them)', () => {
      expect(check([put(1, 1, 0, 100), get(2, null, 10, 20), get(3, 1, 30, 40)]).verdict).toBe('linearizable')
    })
  })

  describe('operations with an unknown outcome', () => {
    it('lets a timed-out write take effect long after the client gave up', () => {
      expect(check([put(1, 1, 0, null), get(2, null, 10, 20), get(2, 1, 1000, 1010)]).verdict).toBe('linearizable')
    })

    it('lets a timed-out write never take effect', () => {
      expect(check([put(1, 1, 0, null), get(2, null, 1000, 1010)]).verdict).toBe('linearizable')
      expect(check([put(1, 1, 0, 5, { indeterminate: true }), get(2, null, 1000, 1010)]).verdict).toBe('linearizable')
    })

    it('still rejects a timed-out write that is seen and then unseen', () => {
      expect(check([put(1, 1, 0, null), get(2, 1, 10, 20), get(2, null, 30, 40)]).verdict).toBe('not-linearizable')
    })

    it('does not let a timed-out write take effect before its call', () => {
      expect(check([get(2, 1, 0, 10), put(1, 1, 20, null)]).verdict).toBe('not-linearizable')
    })

    it('applies a timed-out write at most once', () => {
      expect(check([put(1, 1, 0, null), get(2, 1, 10, 20), put(3, 2, 30, 40), get(2, 1, 50, 60)]).verdict).toBe('not-linearizable')
    })

    it('lets a timed-out cas swap or not', () => {
      const base = [put(0, 0, 0, 10), { ...cas(1, 0, 1, true, 20, null) }]
      expect(check([...base, get(2, 1, 30, 40)]).verdict).toBe('linearizable')
      expect(check([...base, get(2, 0, 30, 40)]).verdict).toBe('linearizable')
      expect(check([...base, get(2, 7, 30, 40)]).verdict).toBe('not-linearizable')
    })

    it('lets timed-out operations take effect one after another when each needs the one before', () => {
      const chain = [put(0, 0, 0, 10), cas(1, 0, 1, true, 20, null), cas(2, 1, 2, true, 20, null)]
      expect(check([...chain, get(3, 2, 100, 110)]).verdict).toBe('linearizable')
      expect(check([...chain, get(3, 2, 100, 110), get(3, 1, 120, 130)]).verdict).toBe('not-linearizable')
    })

    it('lets any of several alike timed-out deletes be the one that took effect', () => {
      const del = (client: number, call: number): HistoryOpInit => ({ client, op: 'del', key: 'x', call, return: null })
      expect(check([put(0, 1, 0, 10), del(1, 20), del(2, 25), get(3, null, 30, 40), put(0, 2, 50, 60), get(3, null, 70, 80), put(0, 3, 90, 100), get(3, null, 110, 120)]).verdict).toBe('not-linearizable')
      expect(check([put(0, 1, 0, 10), del(1, 20), del(2, 25), get(3, null, 30, 40), put(0, 2, 50, 60), get(3, null, 70, 80)]).verdict).toBe('linearizable')
    })

    it('ignores a failed write entirely', () => {
      expect(check([put(1, 1, 0, 10, { failed: true }), get(2, null, 20, 30)]).verdict).toBe('linearizable')
      expect(check([put(1, 1, 0, 10, { failed: true }), get(2, 1, 20, 30)]).verdict).toBe('not-linearizable')
    })

    it('ignores a read whose answer never arrived', () => {
      expect(check([put(1, 1, 0, 10), get(2, 99, 20, null)]).verdict).toBe('linearizable')
    })
  })

  it('compares structured values by content, not key order', () => {
    expect(check([put(1, { a: 1, b: [1, 2] }, 0, 10), get(2, { b: [1, 2], a: 1 }, 20, 30)]).verdict).toBe('linearizable')
    expect(check([put(1, { a: 1, b: [1, 2] }, 0, 10), get(2, { a: 1, b: [2, 1] }, 20, 30)]).verdict).toBe('not-linearizable')
  })

  it('checks keys independently and reports the failing key with the fewest operations', () => {
    const on = (key: string, ops: HistoryOpInit[]): HistoryOpInit[] => ops.map((op) => ({ ...op, key }))
    const result = check([
      ...on('big', [put(1, 1, 0, 10), put(1, 2, 20, 30), get(1, 2, 35, 36), get(2, 1, 40, 50)]),
      ...on('fine', [put(1, 1, 0, 10), get(2, 1, 20, 30)]),
      ...on('small', [put(1, 1, 0, 10), get(2, null, 20, 30)])
    ])
    expect(result.verdict).toBe('not-linearizable')
    expect(result.failingKeys).toEqual(['small', 'big'])
    expect(result.violation!.key).toBe('small')
    expect(result.keys.map((key) => [key.key, key.verdict])).toEqual([['fine', 'linearizable'], ['small', 'not-linearizable'], ['big', 'not-linearizable']])
  })

  it('stops at the first failing key when asked, and shortens long reports', () => {
    const on = (key: string, ops: HistoryOpInit[]): HistoryOpInit[] => ops.map((op) => ({ ...op, key }))
    const history = [...on('a', [put(1, 1, 0, 10), get(2, null, 20, 30)]), ...on('b', [put(1, 1, 0, 10), get(2, null, 20, 30), get(2, null, 40, 50)])]
    const result = checkHistory(history, { model, checkAllKeys: false })
    expect(result.failingKeys).toEqual(['a'])
    expect(result.keys.map((key) => key.verdict)).toEqual(['not-linearizable', 'unknown'])
    expect(result.verdict).toBe('not-linearizable')

    const long = Array.from({ length: 30 }, (_, i) => put(1, i, i * 10, i * 10 + 5))
    long.push(get(2, 0, 1000, 1010))
    const report = formatReport(checkHistory(long, { model }), model, { contextOps: 3 })
    expect(report).toContain('Longest partial linearization: 30 operations, from absent:\n  ... 27 earlier operations\n  #27 client 1')
  })

  it('explains which candidates fit but led nowhere', () => {
    // Either write may go first, but the reads need 1 then 2 then 1 again.
    const result = check([put(1, 1, 0, 100), put(2, 2, 0, 100), get(3, 1, 10, 20), get(3, 2, 30, 40), get(3, 1, 50, 60)])
    expect(result.verdict).toBe('not-linearizable')
    const violation = result.violation!
    expect(violation.blocking).toBe(4)
    expect(violation.linearized.map((step) => step.op)).toEqual([0, 2, 1, 3])
    expect(violation.candidates).toEqual([{ op: 4, reason: 'read 1, but the key held 2' }])
  })

  it('gives up with verdict unknown when the time limit runs out', () => {
    // 22 concurrent writes and a read of a value none wrote: the search must try every order.
    const history: HistoryOpInit[] = Array.from({ length: 22 }, (_, i) => put(i, i, 0, 100))
    history.push(get(99, 'never written', 200, 300))
    let fakeMs = 0
    const result = checkHistory(history, { model, timeoutMs: 20 }, { now: () => (fakeMs += 1) })
    expect(result.verdict).toBe('unknown')
    expect(result.keys[0]!.verdict).toBe('unknown')
    expect(formatReport(result, model)).toMatch(/^UNKNOWN .*\ngave up at the time limit; not decided: "x"/)
  })

  it('decides a failure on one key even when another key runs out of time', () => {
    const hard: HistoryOpInit[] = Array.from({ length: 22 }, (_, i) => ({ ...put(i, i, 0, 100), key: 'hard' }))
    hard.push({ ...get(99, 'never written', 200, 300), key: 'hard' })
    let fakeMs = 0
    const result = checkHistory([...hard, put(1, 1, 0, 10), get(2, null, 20, 30)], { model, timeoutMs: 20 }, { now: () => (fakeMs += 1) })
    expect(result.verdict).toBe('not-linearizable')
    expect(result.failingKeys).toEqual(['x'])
    expect(result.keys.find((key) => key.key === 'hard')!.verdict).toBe('unknown')
  })
})
