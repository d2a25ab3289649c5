import type { HistoryOp } from '@synod/lincheck'
import { describe, expect, it } from 'vitest'
import { classifyReply } from '../src/client/http.js'
import { checkSet } from '../src/client/workloads.js'
import { availability, countOps, longestOutageMs, verdictTable } from '../src/report/summary.js'

const op = (call: number, ret: number | null, outcome: 'ok' | 'failed' | 'unknown', name = 'put'): HistoryOp => ({
  client: 1, op: name, key: 'x', value: 'v', expected: null, call: call * 1e9, return: ret === null ? null : ret * 1e9,
  ok: outcome === 'ok', output: null, failed: outcome === 'failed', indeterminate: outcome === 'unknown'
})

describe('reply classification', () => {
  it('treats refusals before the log as certainly not applied', () => {
    expect(classifyReply(421, { error: { code: 'ERR_NOT_LEADER' } }).kind).toBe('refused')
    expect(classifyReply(429, { error: { code: 'ERR_OVERLOADED' } }).kind).toBe('refused')
  })

  it('treats timeouts and server errors as unknown, and 404 as a completed read of nothing', () => {
    expect(classifyReply(504, { error: { code: 'ERR_TIMEOUT', indeterminate: true } }).kind).toBe('unknown')
    expect(classifyReply(503, { error: { code: 'ERR_STOPPING' } }).kind).toBe('unknown')
    expect(classifyReply(404, { error: { code: 'ERR_NOT_FOUND' } }).kind).toBe('done')
    expect(classifyReply(200, { ok: true }).kind).toBe('done')
  })
})

describe('acknowledged-writes set check', () => {
  it('reports acknowledged adds that are missing and refused adds that are present', () => {
    const outcome = { acknowledged: ['a', 'b'], uncertain: ['c', 'd'], refused: ['e'] }
    expect(checkSet(outcome, new Set(['a', 'b', 'c']))).toEqual({ lost: [], unexpected: [], uncertainPresent: 1 })
    expect(checkSet(outcome, new Set(['a', 'e', 'z']))).toEqual({ lost: ['b'], unexpected: ['e', 'z'], uncertainPresent: 0 })
  })
})

describe('run summary', () => {
  const history = [op(0.1, 0.5, 'ok'), op(0.2, 1.5, 'failed'), op(1.2, null, 'unknown', 'cas'), op(3.1, 3.2, 'ok', 'get')]

  it('counts operations by outcome and type', () => {
    const { all, byOp } = countOps(history)
    expect(all).toEqual({ total: 4, ok: 2, failed: 1, indeterminate: 1 })
    expect(byOp.cas).toEqual({ total: 1, ok: 0, failed: 0, indeterminate: 1 })
  })

  it('buckets availability by completion time and marks active faults', () => {
    const windows = availability(history, [{ kind: 'kill-one', startMs: 1100, endMs: 2500, detail: 'n1' }], 1000, 4000)
    expect(windows.map((w) => [w.ok, w.notOk])).toEqual([[1, 0], [0, 2], [0, 0], [1, 0]])
    expect(windows.map((w) => w.faults)).toEqual([[], ['kill-one'], ['kill-one'], []])
    expect(longestOutageMs(windows, 1000)).toBe(2000)
  })

  it('prints a verdict table', () => {
    const table = verdictTable([{ check: 'linearizable', pass: true, detail: 'ok' }, { check: 'set', pass: false, detail: '1 lost' }])
    expect(table.split('\n')).toHaveLength(4)
    expect(table).toMatch(/set\s+FAIL\s+1 lost/)
  })
})
