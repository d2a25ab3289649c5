import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../src/index.js'

/** Records `label@now` when a timer fires. */
function recorder (clock: ManualClock): { fired: string[], at: (label: string) => () => void } {
  const fired: string[] = []
  return { fired, at: (label) => () => { fired.push(`${label}@${clock.now()}`) } }
}

function codeOf (run: () => unknown): unknown {
  try {
    run()
  } catch (err) {
    return (err as { code?: unknown }).code
  }
  return undefined
}

describe('createManualClock', () => {
  it('stands still until advanced, then fires due timers at their due time', () => {
    const clock = createManualClock({ start: 1000 })
    const { fired, at } = recorder(clock)
    clock.setTimeout(at('a'), 100)
    expect(clock.now()).toBe(1000)
    expect(clock.advance(99)).toBe(0)
    expect(fired).toEqual([])
    expect(clock.now()).toBe(1099)
    expect(clock.advance(50)).toBe(1)
    expect(fired).toEqual(['a@1100'])
    expect(clock.now()).toBe(1149)
    expect(clock.pending).toBe(0)
  })

  it('fires in due order, ties in the order they were set, whatever order they were set in', () => {
    const clock = createManualClock()
    const { fired, at } = recorder(clock)
    clock.setTimeout(at('late'), 30)
    clock.setTimeout(at('tie-1'), 10)
    clock.setTimeout(at('early'), 5)
    clock.setTimeout(at('tie-2'), 10)
    clock.advance(100)
    expect(fired).toEqual(['early@5', 'tie-1@10', 'tie-2@10', 'late@30'])
  })

  it('fires timers that callbacks set inside the window, after the ones already due at that time', () => {
    const clock = createManualClock()
    const { fired, at } = recorder(clock)
    clock.setTimeout(() => {
      at('first')()
      clock.setTimeout(at('zero-delay'), 0)
      clock.setTimeout(at('later-in-window'), 15)
      clock.setTimeout(at('outside-window'), 100)
    }, 10)
    clock.setTimeout(at('same-time'), 10)
    clock.advance(50)
    expect(fired).toEqual(['first@10', 'same-time@10', 'zero-delay@10', 'later-in-window@25'])
    expect(clock.pending).toBe(1)
    clock.advance(60)
    expect(fired.at(-1)).toBe('outside-window@110')
  })

  it('cancels timers, also from inside a callback, and ignores fired, cleared or foreign handles', () => {
    const clock = createManualClock()
    const other = createManualClock()
    const { fired, at } = recorder(clock)
    const cancelledEarly = clock.setTimeout(at('cancelled-early'), 5)
    // Both due at 10: the canceller was set first, so it fires first and cancels its neighbour.
    const victim: { handle?: unknown } = {}
    clock.setTimeout(() => { clock.clearTimeout(victim.handle) }, 10)
    victim.handle = clock.setTimeout(at('cancelled-by-callback'), 10)
    const kept = clock.setTimeout(at('kept'), 20)
    const foreign = other.setTimeout(() => {}, 20)
    clock.clearTimeout(cancelledEarly)
    clock.clearTimeout(cancelledEarly)
    clock.clearTimeout(foreign)
    clock.clearTimeout(undefined)
    clock.clearTimeout(42)
    expect(clock.pending).toBe(3)
    clock.advance(30)
    expect(fired).toEqual(['kept@20'])
    clock.clearTimeout(kept)
    expect(clock.pending).toBe(0)
    expect(other.pending).toBe(1)
  })

  it('treats negative and NaN delays as 0', () => {
    const clock = createManualClock()
    const { fired, at } = recorder(clock)
    clock.setTimeout(at('negative'), -5)
    clock.setTimeout(at('nan'), Number.NaN)
    clock.advance(0)
    expect(fired).toEqual(['negative@0', 'nan@0'])
  })

  it('stops a callback that keeps re-arming 0 ms timers with ERR_RUNAWAY_TIMERS instead of hanging', () => {
    const clock = createManualClock({ maxFiringsPerAdvance: 1000 })
    let firings = 0
    const rearm = (): void => { firings++; clock.setTimeout(rearm, 0) }
    clock.setTimeout(rearm, 10)
    let error: unknown
    try {
      clock.advance(20)
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'ERR_RUNAWAY_TIMERS', name: 'RunawayTimersError', fired: 1000, time: 10 })
    expect(firings).toBe(1000)
    expect(clock.now()).toBe(10)
    // The clock is still usable: the runaway timer is pending and can be cleared by the test.
    expect(clock.pending).toBe(1)
  })

  it('allows exactly the bound of firings in one advance', () => {
    const clock = createManualClock({ maxFiringsPerAdvance: 3 })
    for (let i = 0; i < 3; i++) clock.setTimeout(() => {}, i)
    expect(clock.advance(10)).toBe(3)
    for (let i = 0; i < 4; i++) clock.setTimeout(() => {}, i)
    expect(codeOf(() => clock.advance(10))).toBe('ERR_RUNAWAY_TIMERS')
  })

  it('lets a throwing callback propagate, leaving later timers pending at the failing time', () => {
    const clock = createManualClock()
    const { fired, at } = recorder(clock)
    clock.setTimeout(() => { throw new Error('boom') }, 10)
    clock.setTimeout(at('after'), 20)
    expect(() => clock.advance(30)).toThrow('boom')
    expect(clock.now()).toBe(10)
    expect(clock.pending).toBe(1)
    clock.advance(20)
    expect(fired).toEqual(['after@20'])
  })

  it('rejects bad arguments and advance() from inside a callback with ERR_INVALID_ARGUMENT', () => {
    const clock = createManualClock()
    expect(codeOf(() => clock.advance(-1))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => clock.advance(Number.POSITIVE_INFINITY))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => createManualClock({ maxFiringsPerAdvance: 0 }))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => createManualClock({ start: Number.NaN }))).toBe('ERR_INVALID_ARGUMENT')
    let nested: unknown
    clock.setTimeout(() => { nested = codeOf(() => clock.advance(1)) }, 1)
    clock.advance(1)
    expect(nested).toBe('ERR_INVALID_ARGUMENT')
  })

  it('fires the same timers at the same times however the time is split into advances', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ delay: fc.integer({ min: 0, max: 50 }), child: fc.option(fc.integer({ min: 0, max: 20 })) }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 10 }),
      (timers, steps) => {
        const run = (advances: number[]): string[] => {
          const clock = createManualClock()
          const { fired, at } = recorder(clock)
          timers.forEach(({ delay, child }, i) => {
            clock.setTimeout(() => {
              at(`t${i}`)()
              if (child !== null) clock.setTimeout(at(`c${i}`), child)
            }, delay)
          })
          for (const ms of advances) clock.advance(ms)
          return fired
        }
        const total = steps.reduce((sum, ms) => sum + ms, 0)
        const split = run(steps)
        expect(split).toEqual(run([total]))
        // Reference: every firing is at a time within the window, in non-decreasing time order.
        const times = split.map((entry) => Number(entry.split('@')[1]))
        expect(times).toEqual([...times].sort((a, b) => a - b))
        expect(times.every((time) => time <= total)).toBe(true)
        const due = timers.filter(({ delay }) => delay <= total)
        const dueChildren = due.filter(({ delay, child }) => child !== null && delay + child <= total)
        expect(split).toHaveLength(due.length + dueChildren.length)
      }
    ), { seed: 20261128, numRuns: 100 })
  })
})
