import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSeededRandom, createVirtualClock, quantile } from '../src/index.js'

describe('seeded random', () => {
  it('replays for a seed and differs between seeds', () => {
    const a = createSeededRandom(42)
    const b = createSeededRandom(42)
    const c = createSeededRandom(43)
    const seqA = Array.from({ length: 20 }, () => a.next())
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA)
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA)
  })

  it('stays in range (property)', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 1_000_000 }), (seed, max) => {
      const random = createSeededRandom(seed)
      for (let i = 0; i < 50; i++) {
        const x = random.next()
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThan(1)
        const k = random.int(max)
        expect(Number.isInteger(k) && k >= 0 && k < max).toBe(true)
      }
    }))
  })

  it('is close to uniform', () => {
    const random = createSeededRandom(1)
    const bins = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) bins[random.int(10)]!++
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(400)
  })
})

describe('virtual clock', () => {
  it('runs timers in time order, ties in the order they were set, and skips cleared ones', () => {
    const clock = createVirtualClock()
    const log: string[] = []
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10)
    clock.setTimeout(() => log.push(`a2@${clock.now()}`), 10)
    const cleared = clock.setTimeout(() => log.push('never'), 15)
    clock.clearTimeout(cleared)
    clock.clearTimeout(cleared)
    clock.setTimeout(() => { clock.setTimeout(() => log.push(`nested@${clock.now()}`), 1) }, 20)
    expect(clock.pendingTimers).toBe(4)
    clock.advance(15)
    expect(log).toEqual(['a@10', 'a2@10'])
    expect(clock.now()).toBe(15)
    clock.advance(100)
    expect(log).toEqual(['a@10', 'a2@10', 'b@20', 'nested@21'])
    expect(clock.now()).toBe(115)
    expect(clock.pendingTimers).toBe(0)
  })

  it('orders any set of timers by due time (property)', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 1000 }), { maxLength: 60 }), (delays) => {
      const clock = createVirtualClock()
      const fired: number[] = []
      for (const delay of delays) clock.setTimeout(() => fired.push(clock.now()), delay)
      expect(clock.runAll()).toBe(delays.length)
      expect(fired).toEqual([...delays].sort((a, b) => a - b))
    }))
  })
})

describe('quantile', () => {
  it('uses the nearest rank', () => {
    const sample = Float64Array.from({ length: 1000 }, (_, i) => i + 1)
    expect(quantile(sample, 0.5)).toBe(500)
    expect(quantile(sample, 0.99)).toBe(990)
    expect(quantile(sample, 0.999)).toBe(999)
    expect(quantile(sample, 1)).toBe(1000)
    expect(quantile(new Float64Array(0), 0.5)).toBeNaN()
  })
})
