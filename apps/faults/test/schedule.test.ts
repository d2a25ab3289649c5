import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildSchedule, CLOCK_FAULTS, FAULT_KINDS, NETWORK_FAULTS } from '../src/nemesis/schedule.js'
import { PROFILES } from '../src/run/profiles.js'
import { createSeededRandom } from '../src/random.js'

describe('fault schedule', () => {
  it('is reproduced from its seed', () => {
    expect(buildSchedule({ seed: 42, durationMs: 60_000 })).toEqual(buildSchedule({ seed: 42, durationMs: 60_000 }))
    expect(buildSchedule({ seed: 42, durationMs: 60_000 })).not.toEqual(buildSchedule({ seed: 43, durationMs: 60_000 }))
  })

  it('keeps steps in order, apart, and inside the faulty phase', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 300_000 }), (seed, durationMs) => {
      const steps = buildSchedule({ seed, durationMs, faultMs: [4000, 8000], gapMs: [2000, 4000] })
      let end = 0
      for (const step of steps) {
        expect(step.atMs).toBeGreaterThanOrEqual(end)
        expect(step.durationMs).toBeGreaterThanOrEqual(4000)
        expect(step.durationMs).toBeLessThanOrEqual(8000)
        expect(step.atMs + step.durationMs).toBeLessThanOrEqual(durationMs)
        end = step.atMs + step.durationMs + 2000
      }
    }), { seed: 21 })
  })

  it('covers every kind between the two engines\' short runs, whatever the seed', () => {
    const short = PROFILES.short
    if (short === undefined) throw new Error('no short profile')
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const options = { seed, durationMs: short.faultPhaseMs, kinds: short.kinds, faultMs: short.faultMs, gapMs: short.gapMs }
      const first = new Set(buildSchedule(options).flatMap((s) => s.kinds))
      const second = buildSchedule({ ...options, prefer: short.kinds.filter((k) => !first.has(k)) }).flatMap((s) => s.kinds)
      const seen = new Set([...first, ...second])
      expect(short.kinds.filter((k) => !seen.has(k))).toEqual([])
    }), { seed: 23, numRuns: 50 })
  })

  it('schedules the preferred kinds first', () => {
    const prefer = ['kill-all', 'clock-bump'] as const
    const steps = buildSchedule({ seed: 3, durationMs: 60_000, comboEvery: 0, prefer })
    expect(new Set(steps.slice(0, 2).flatMap((s) => s.kinds))).toEqual(new Set(prefer))
  })

  it('pairs one network fault with one process or clock fault in combinations', () => {
    const steps = buildSchedule({ seed: 9, durationMs: 600_000, comboEvery: 3 })
    const combos = steps.filter((s) => s.kinds.length === 2)
    expect(combos.length).toBeGreaterThan(5)
    for (const combo of combos) {
      expect(NETWORK_FAULTS.has(combo.kinds[0] ?? 'kill-one')).toBe(true)
      expect(NETWORK_FAULTS.has(combo.kinds[1] ?? 'packet-loss')).toBe(false)
    }
  })

  it('draws only the kinds it is given (clock faults left out without libfaketime)', () => {
    const kinds = FAULT_KINDS.filter((k) => !CLOCK_FAULTS.has(k))
    const steps = buildSchedule({ seed: 5, durationMs: 600_000, kinds })
    expect(steps.flatMap((s) => s.kinds).some((k) => CLOCK_FAULTS.has(k))).toBe(false)
    expect(buildSchedule({ seed: 5, durationMs: 600_000, kinds: [] })).toEqual([])
  })
})

describe('seeded random', () => {
  it('is deterministic and in range', () => {
    const a = createSeededRandom(1)
    const b = createSeededRandom(1)
    for (let i = 0; i < 100; i++) {
      const x = a.next()
      expect(x).toBe(b.next())
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
    }
    expect(createSeededRandom(3).shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5])
    expect(() => createSeededRandom(3).pick([])).toThrow(RangeError)
  })
})
