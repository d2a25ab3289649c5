import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DeadlineWheel, IndexWindow } from '../../src/node/metrics.js'

describe('IndexWindow', () => {
  it('behaves like a map from index to value under any mix of set and take', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), index: fc.integer({ min: 1, max: 3000 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('take' as const), index: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('takeLowest' as const) })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const window = new IndexWindow<number>()
      const model = new Map<number, number>()
      for (const o of ops) {
        if (o.kind === 'set') {
          window.set(o.index, o.value)
          model.set(o.index, o.value)
        } else {
          const index = o.kind === 'take' ? o.index : Math.min(...model.keys())
          expect(window.take(index)).toBe(model.get(index))
          model.delete(index)
        }
        expect(window.size).toBe(model.size)
      }
      expect(window.entries()).toEqual([...model.entries()].sort((a, b) => a[0] - b[0]))
      for (const [index, value] of model) expect(window.get(index)).toBe(value)
    }), { seed: 42, numRuns: 300 })
  })

  it('takes a long dense run in order and stays empty afterwards', () => {
    const window = new IndexWindow<number>()
    // Long enough that the window compacts its dead prefix several times.
    for (let i = 1; i <= 10_000; i++) window.set(i, i * 2)
    const taken: number[] = []
    for (let i = 1; i <= 10_000; i++) taken.push(window.take(i) ?? -1)
    expect(taken).toEqual(Array.from({ length: 10_000 }, (_, i) => (i + 1) * 2))
    expect(window.size).toBe(0)
    expect(window.entries()).toEqual([])
    window.set(20_000, 1)
    expect(window.get(20_000)).toBe(1)
    expect(window.get(19_999)).toBeUndefined()
  })
})

describe('DeadlineWheel', () => {
  it('expires exactly the live items of due buckets, however many were settled before (compaction included)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ bucket: fc.integer({ min: 0, max: 3 }), settle: fc.boolean() }), { maxLength: 1500 }),
      fc.integer({ min: 0, max: 3 }),
      (items, now) => {
        const live = new Set<number>()
        const wheel = new DeadlineWheel<number>((id) => live.has(id))
        items.forEach((_, id) => { live.add(id); wheel.add(items[id]!.bucket, id) })
        items.forEach((item, id) => {
          if (item.settle) { live.delete(id); wheel.delete(item.bucket, id) }
        })
        const expected = items.flatMap((item, id) => item.bucket <= now && live.has(id) ? [id] : [])
        expect(wheel.expire(now).sort((a, b) => a - b)).toEqual(expected)
        // Expired buckets are gone; the later ones still answer.
        expect(wheel.expire(now)).toEqual([])
        const later = items.flatMap((item, id) => item.bucket > now && live.has(id) ? [id] : [])
        expect(wheel.expire(3).sort((a, b) => a - b)).toEqual(later)
      }
    ), { seed: 7, numRuns: 100 })
  })

  it('keeps the live items when a bucket compacts away its settled ones', () => {
    const live = new Set<number>()
    const wheel = new DeadlineWheel<number>((id) => live.has(id))
    for (let id = 0; id < 300; id++) { live.add(id); wheel.add(1, id) }
    // Settle three in four: the bucket compacts once more than half of it is dead.
    for (let id = 0; id < 300; id++) {
      if (id % 4 !== 0) { live.delete(id); wheel.delete(1, id) }
    }
    for (let id = 300; id < 310; id++) { live.add(id); wheel.add(1, id) }
    expect(wheel.expire(0)).toEqual([])
    expect(wheel.expire(1).sort((a, b) => a - b)).toEqual([...live].sort((a, b) => a - b))
  })
})
