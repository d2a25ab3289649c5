import { describe, expect, it } from 'vitest'
import { TimeoutError, NotLeaderError } from '@synod/interfaces'
import { checkHistory, createHistoryRecorder, createKvModel, nanosFromClock, parseHistory, stringifyHistory } from '../src/index.js'

const model = createKvModel()

describe('parseHistory', () => {
  it('reads the history format and fills in defaults', () => {
    const history = parseHistory('[{"client":1,"op":"get","key":"x","output":null,"call":0,"return":5},{"client":2,"op":"put","key":"x","value":{"a":1},"call":3,"return":null}]', model)
    expect(history).toEqual([
      { client: 1, op: 'get', key: 'x', value: null, expected: null, call: 0, return: 5, ok: true, output: null, failed: false, indeterminate: false },
      { client: 2, op: 'put', key: 'x', value: { a: 1 }, expected: null, call: 3, return: null, ok: true, output: null, failed: false, indeterminate: true }
    ])
  })

  it('writes every field, one operation per line, and reads it back unchanged', () => {
    const history = parseHistory('[{"client":1,"op":"cas","key":"x","expected":null,"value":2,"ok":false,"call":0,"return":5,"indeterminate":false}]', model)
    const text = stringifyHistory(history)
    expect(text).toBe('[\n  {"client":1,"op":"cas","key":"x","value":2,"expected":null,"call":0,"return":5,"ok":false,"output":null,"failed":false,"indeterminate":false}\n]\n')
    expect(parseHistory(text, model)).toEqual(history)
  })

  const malformed: Array<[string, string, number | undefined, string | undefined]> = [
    ['{"client":1}', 'history must be a JSON array of operations, got {"client":1}', undefined, undefined],
    ['[1', 'history is not valid JSON', undefined, undefined],
    ['[{"client":1,"op":"get","key":"x","output":1,"call":0,"return":1}, 7]', 'op 1: must be an object, got 7', 1, undefined],
    ['[{"client":"a","op":"get","key":"x","call":0,"return":1}]', 'op 0: "client" must be an integer, got "a"', 0, 'client'],
    ['[{"client":1,"op":"get","key":3,"call":0,"return":1}]', 'op 0: "key" must be a string, got 3', 0, 'key'],
    ['[{"client":1,"op":"get","key":"x","call":-1,"return":1}]', 'op 0: "call" must be a non-negative integer of nanoseconds, got -1', 0, 'call'],
    ['[{"client":1,"op":"get","key":"x","call":1.5,"return":2}]', 'op 0: "call" must be a non-negative integer of nanoseconds, got 1.5', 0, 'call'],
    ['[{"client":1,"op":"get","key":"x","output":1,"call":5,"return":4}]', 'op 0: "return" (4) is before "call" (5)', 0, 'return'],
    ['[{"client":1,"op":"get","key":"x","output":1,"call":5,"return":6,"failed":"no"}]', 'op 0: "failed" must be true or false, got "no"', 0, 'failed'],
    ['[{"client":1,"op":"get","key":"x","output":1,"call":5,"return":6,"failed":true,"indeterminate":true}]', 'op 0: "failed" and "indeterminate" are both true', 0, 'failed'],
    ['[{"client":1,"op":"get","key":"x","output":1,"call":5,"return":6,"colour":"red"}]', 'op 0: unknown field "colour"', 0, 'colour'],
    ['[{"client":1,"op":"incr","key":"x","call":5,"return":6}]', 'op 0: "op" is "incr", which the kv model does not know (expected one of get, put, cas, del)', 0, 'op'],
    ['[{"client":1,"op":"get","key":"x","call":5,"return":6}]', 'op 0: a completed get needs an "output" (the value read; null means absent)', 0, undefined],
    ['[{"client":1,"op":"put","key":"x","call":5,"return":6}]', 'op 0: a put needs a "value" (null deletes the key)', 0, undefined],
    ['[{"client":1,"op":"cas","key":"x","value":1,"call":5,"return":6,"ok":true}]', 'op 0: a cas needs an "expected" value (null means "absent")', 0, undefined],
    ['[{"client":1,"op":"cas","key":"x","value":1,"expected":0,"call":5,"return":6}]', 'op 0: a completed cas needs "ok" (whether it swapped)', 0, undefined],
    ['[{"client":1,"op":"put","key":"x","value":1,"ok":false,"call":5,"return":6}]', 'op 0: a completed put has "ok": false; mark it "failed"', 0, undefined]
  ]
  for (const [text, message, index, field] of malformed) {
    it(`rejects ${message.split(':').slice(0, 2).join(':')}`, () => {
      let caught: unknown
      try {
        parseHistory(text, model)
      } catch (err) {
        caught = err
      }
      expect(caught).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', name: 'MalformedHistoryError', index, field })
      expect((caught as Error).message).toContain(message)
    })
  }

  it('lets checkHistory reject a malformed hand-written history the same way', () => {
    expect(() => checkHistory([{ client: 1, op: 'get', key: 'x', call: 10, return: 5, output: null }], { model }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', index: 0 }))
  })
})

describe('createHistoryRecorder', () => {
  function fakeClock (): { nowNs: () => number, advance: (ns: number) => void } {
    let now = 5_000
    return { nowNs: () => now, advance: (ns) => { now += ns } }
  }

  it('records call and return times relative to its start, and each kind of ending', () => {
    const clock = fakeClock()
    const recorder = createHistoryRecorder({}, { nowNs: clock.nowNs })
    clock.advance(10)
    const write = recorder.invoke({ client: 1, op: 'put', key: 'x', value: 1 })
    const read = recorder.invoke({ client: 2, op: 'get', key: 'x' })
    clock.advance(5)
    write.complete()
    read.complete({ output: 1 })
    const refused = recorder.invoke({ client: 3, op: 'cas', key: 'x', expected: 0, value: 2 })
    clock.advance(7)
    refused.fail()
    const lost = recorder.invoke({ client: 4, op: 'put', key: 'x', value: 3 })
    lost.timeout()
    recorder.invoke({ client: 5, op: 'del', key: 'x' }) // never ended: the test stopped first

    const history = recorder.history()
    expect(history.map((op) => [op.call, op.return, op.failed, op.indeterminate])).toEqual([
      [10, 15, false, false], [10, 15, false, false], [15, 22, true, false], [22, null, false, true], [22, null, false, true]
    ])
    expect(history[1]!.output).toBe(1)
    expect(history[2]!.ok).toBe(false)
    expect(checkHistory(history, { model }).verdict).toBe('linearizable')
    expect(parseHistory(recorder.toJSON(), model)).toEqual(history)
    expect(() => { write.complete() }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('records what an async call resolves or rejects with', async () => {
    const clock = fakeClock()
    const recorder = createHistoryRecorder({}, { nowNs: clock.nowNs })
    await recorder.record({ client: 1, op: 'put', key: 'x', value: 1 }, async () => { clock.advance(3) })
    expect(await recorder.record({ client: 1, op: 'get', key: 'x' }, async () => 1)).toBe(1)
    expect(await recorder.record({ client: 1, op: 'cas', key: 'x', expected: 1, value: 2 }, async () => true)).toBe(true)
    await expect(recorder.record({ client: 2, op: 'put', key: 'x', value: 9 }, async () => { throw new NotLeaderError() })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
    await expect(recorder.record({ client: 2, op: 'put', key: 'x', value: 8 }, async () => { throw new TimeoutError() })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    await expect(recorder.record({ client: 2, op: 'put', key: 'x', value: 7 }, async () => { throw new Error('socket hang up') })).rejects.toThrow('socket hang up')

    const history = recorder.history()
    expect(history.map((op) => [op.op, op.ok, op.output, op.failed, op.indeterminate])).toEqual([
      ['put', true, null, false, false],
      ['get', true, 1, false, false],
      ['cas', true, null, false, false],
      ['put', false, null, true, false],
      ['put', true, null, false, true],
      ['put', true, null, false, true]
    ])
    expect(history[0]!.return).toBe(3)
  })

  it('reads a Synod Clock in milliseconds as nanoseconds', () => {
    let ms = 1.5
    const nowNs = nanosFromClock({ now: () => ms })
    const recorder = createHistoryRecorder({}, { nowNs })
    const op = recorder.invoke({ client: 1, op: 'del', key: 'x' })
    ms = 2.25
    op.complete()
    expect(recorder.history()[0]).toMatchObject({ call: 0, return: 750_000 })
  })
})
