import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createRandom } from '../src/index.js'
import { xoshiro128FromState } from '../src/random/random.js'

const draw = (random: { uint32(): number }, n: number): number[] => Array.from({ length: n }, () => random.uint32())

describe('createRandom', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    expect(draw(createRandom(1), 20)).toEqual(draw(createRandom(1), 20))
    expect(draw(createRandom(1), 20)).not.toEqual(draw(createRandom(2), 20))
    // Seeds that differ only above bit 32 still give different streams.
    expect(draw(createRandom(5), 8)).not.toEqual(draw(createRandom(5 + 2 ** 32), 8))
  })

  it('matches the xoshiro128** reference vector for state (1, 2, 3, 4)', () => {
    expect(draw(xoshiro128FromState([1, 2, 3, 4]), 4)).toEqual([11520, 0, 5927040, 70819200])
  })

  it('keeps producing the recorded sequence for seed 0', () => {
    // If the generator or its seeding changes, every failing seed people recorded stops replaying,
    // so a change here must be deliberate (and announced in a changeset).
    expect(draw(createRandom(0), 4)).toMatchSnapshot()
  })

  it('forks named streams that do not depend on draws from the parent or from other forks', () => {
    const a = createRandom(7)
    const b = createRandom(7)
    draw(a, 100)
    draw(a.fork('other'), 50)
    expect(draw(a.fork('network'), 10)).toEqual(draw(b.fork('network'), 10))
    expect(draw(a.fork('network'), 10)).not.toEqual(draw(a.fork('disk'), 10))
    expect(a.fork('x').fork('y').name).toBe('x/y')
  })

  it('keeps int, intBetween, next and floatBetween in range', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 40 }), (seed, bound) => {
      const random = createRandom(seed)
      for (let i = 0; i < 20; i++) {
        const value = random.int(bound)
        expect(Number.isInteger(value) && value >= 0 && value < bound).toBe(true)
        const f = random.next()
        expect(f >= 0 && f < 1).toBe(true)
        const between = random.intBetween(-3, 3)
        expect(between >= -3 && between <= 3).toBe(true)
      }
    }), { seed: 42, numRuns: 60 })
  })

  it('is roughly uniform (chi-squared over 10 buckets)', () => {
    const random = createRandom(99)
    const counts = new Array<number>(10).fill(0)
    const n = 100_000
    for (let i = 0; i < n; i++) counts[random.int(10)]!++
    const expected = n / 10
    const chi2 = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0)
    // 9 degrees of freedom: 27.9 is the 99.9th percentile.
    expect(chi2).toBeLessThan(27.9)
  })

  it('shuffles into a permutation and rejects bad arguments with ERR_INVALID_ARGUMENT', () => {
    const random = createRandom(3)
    const items = [1, 2, 3, 4, 5, 6, 7, 8]
    expect(random.shuffle(items).sort()).toEqual(items)
    expect(() => random.pick([])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => random.int(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => createRandom(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => createRandom(1.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
