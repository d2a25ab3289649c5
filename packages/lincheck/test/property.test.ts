import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkHistory, createKvModel, parseHistory, searchLinearization, stringifyHistory, type HistoryOp } from '../src/index.js'
import { injectStaleRead, simulateRegister, type PlannedOp } from './support/register-history.js'

const model = createKvModel()

const plannedOp = (keys: number, unknownWeight: number): fc.Arbitrary<PlannedOp> => fc.record({
  kind: fc.constantFrom('get', 'get', 'put', 'cas', 'del'),
  key: fc.integer({ min: 0, max: keys - 1 }),
  gap: fc.integer({ min: 0, max: 30 }),
  duration: fc.integer({ min: 1, max: 60 }),
  at: fc.integer({ min: 0, max: 1000 }),
  fate: fc.oneof(
    { weight: 20, arbitrary: fc.constant('ok' as const) },
    { weight: 1, arbitrary: fc.constant('failed' as const) },
    { weight: unknownWeight, arbitrary: fc.constantFrom('timeout-applied' as const, 'timeout-lost' as const) }
  ),
  casMatches: fc.boolean()
})

/** Up to 6 clients, each with up to 12 operations, over 1 to 3 keys. */
const workload = (unknownWeight: number): fc.Arbitrary<PlannedOp[][]> => fc.integer({ min: 1, max: 3 }).chain((keys) =>
  fc.array(fc.array(plannedOp(keys, unknownWeight), { maxLength: 12 }), { minLength: 1, maxLength: 6 }))

describe('property: histories of a single atomic register', () => {
  it('are always linearizable, including failed and timed-out operations', () => {
    fc.assert(fc.property(workload(2), (clients) => {
      const history = simulateRegister(clients)
      const result = checkHistory(history, { model })
      expect(result.verdict).toBe('linearizable')
    }), { seed: 20261128, numRuns: 300 })
  })

  it('are always linearizable when a third of the operations time out (the pruned search loses nothing)', () => {
    fc.assert(fc.property(workload(10), (clients) => {
      const history = simulateRegister(clients)
      expect(checkHistory(history, { model }).verdict).toBe('linearizable')
    }), { seed: 99, numRuns: 300 })
  })

  it('survive a round trip through the JSON format unchanged', () => {
    fc.assert(fc.property(workload(2), (clients) => {
      const history = simulateRegister(clients)
      const again = parseHistory(stringifyHistory(history), model)
      expect(again).toEqual(history)
    }), { seed: 7, numRuns: 100 })
  })

  it('with one read made stale are always caught, on the key of that read', () => {
    fc.assert(fc.property(workload(3), fc.nat(), (clients, pick) => {
      const history = simulateRegister(clients)
      const stale = injectStaleRead(history, pick)
      const result = checkHistory(history, { model })
      expect(result.verdict).toBe('not-linearizable')
      expect(result.failingKeys).toEqual([history[stale]!.key])
    }), { seed: 424242, numRuns: 300 })
  })

  it('get the same verdict from both search orders, with or without a stale read', () => {
    const verdict = (history: HistoryOp[], key: string, order: 'by-call' | 'completed-first'): string => {
      const ops = history
        .filter((op) => op.key === key && !op.failed && !(op.indeterminate && op.op === 'get'))
        .map((op) => ({ input: model.prepare(op), call: op.call, return: op.indeterminate ? null : op.return }))
      return searchLinearization(ops, model, { order, trackDeadEnd: false, shouldStop: () => false }).kind
    }
    fc.assert(fc.property(workload(6), fc.boolean(), fc.nat(), (clients, stale, pick) => {
      const history = simulateRegister(clients)
      if (stale) injectStaleRead(history, pick)
      for (const key of new Set(history.map((op) => op.key))) {
        expect(verdict(history, key, 'completed-first')).toBe(verdict(history, key, 'by-call'))
      }
    }), { seed: 31337, numRuns: 300 })
  })
})
