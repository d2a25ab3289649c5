import { describe, expect, it } from 'vitest'
import { createSimulation } from '../src/index.js'

describe('createSimulation', () => {
  it('runs events in time order, ties in scheduling order, and advances virtual time only', async () => {
    const sim = createSimulation({ seed: 1 })
    const seen: string[] = []
    sim.schedule(30, () => seen.push(`c@${sim.now()}`))
    sim.schedule(10, () => seen.push(`a@${sim.now()}`))
    sim.schedule(10, () => seen.push(`b@${sim.now()}`))
    await sim.runFor(20)
    expect(seen).toEqual(['a@10', 'b@10'])
    expect(sim.now()).toBe(20)
    await sim.runFor(3_600_000)
    expect(seen).toEqual(['a@10', 'b@10', 'c@30'])
    expect(sim.now()).toBe(3_600_020)
  })

  it('lets promise chains started by an event finish before the next event, at the same virtual time', async () => {
    const sim = createSimulation({ seed: 1 })
    const seen: string[] = []
    sim.schedule(5, () => {
      void (async () => {
        for (let i = 0; i < 5; i++) await Promise.resolve()
        seen.push(`chain done at ${sim.now()}`)
      })()
    })
    sim.schedule(6, () => seen.push(`next event at ${sim.now()}`))
    await sim.runUntilQuiet()
    expect(seen).toEqual(['chain done at 5', 'next event at 6'])
  })

  it('clock timers fire at their time and can be cancelled', async () => {
    const sim = createSimulation({ seed: 1 })
    const fired: number[] = []
    sim.clock.setTimeout(() => fired.push(sim.clock.now()), 100)
    const cancelled = sim.clock.setTimeout(() => fired.push(-1), 50)
    sim.clock.clearTimeout(cancelled)
    await sim.runFor(1000)
    expect(fired).toEqual([100])
  })

  it('runUntil stops when the condition holds and reports a timeout', async () => {
    const sim = createSimulation({ seed: 1 })
    let count = 0
    const tick = (): void => { count++; sim.clock.setTimeout(tick, 10) }
    sim.clock.setTimeout(tick, 10)
    expect(await sim.runUntil(() => count === 5)).toBe(true)
    expect(sim.now()).toBe(50)
    expect(await sim.runUntil(() => count === 1000, { timeout: 100 })).toBe(false)
    expect(count).toBe(15)
  })

  it('runUntilQuiet ignores timers but waits for tasks', async () => {
    const sim = createSimulation({ seed: 1 })
    const tick = (): void => { sim.clock.setTimeout(tick, 10) }
    tick()
    let done = false
    sim.schedule(500, () => { done = true })
    expect(await sim.runUntilQuiet()).toBe(true)
    expect(done).toBe(true)
    expect(sim.now()).toBe(500)
  })

  it('fails the run with ERR_SIMULATION_FAILED when an event throws, an invariant breaks or a task rejects', async () => {
    const throwing = createSimulation({ seed: 11 })
    throwing.schedule(1, () => { throw new Error('boom') })
    await expect(throwing.runFor(10)).rejects.toMatchObject({ code: 'ERR_SIMULATION_FAILED', seed: 11, time: 1 })

    const invariant = createSimulation({ seed: 1 })
    let x = 0
    invariant.invariant('x stays small', () => x < 3 || `x is ${x}`)
    for (let i = 1; i <= 5; i++) invariant.schedule(i, () => { x++ })
    await expect(invariant.runFor(10)).rejects.toThrow(/x stays small violated: x is 3/)
    expect(invariant.now()).toBe(3)

    const task = createSimulation({ seed: 1 })
    task.spawn('client', async () => { throw new Error('client broke') })
    await expect(task.runFor(1)).rejects.toThrow(/task client failed: client broke/)
    expect(task.trace.format()).toContain('FAILED')
  })

  it('detects a livelock at one instant', async () => {
    const sim = createSimulation({ seed: 1, maxEventsPerInstant: 1000 })
    const again = (): void => { sim.schedule(0, again) }
    again()
    await expect(sim.runFor(1)).rejects.toThrow(/livelock/)
  })

  it('settle runs until a promise settles and returns its outcome, or times out with ERR_TIMEOUT', async () => {
    const sim = createSimulation({ seed: 1 })
    const later = <T>(ms: number, value: T, fail = false): Promise<T> => new Promise<T>((resolve, reject) => {
      sim.clock.setTimeout(() => { if (fail) reject(new Error(String(value))); else resolve(value) }, ms)
    })
    expect(await sim.settle(later(250, 'done'))).toBe('done')
    expect(sim.now()).toBe(250)
    await expect(sim.settle(later(10, 'broken', true))).rejects.toThrow('broken')
    await expect(sim.settle(later(5000, 'slow'), { timeout: 1000 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(sim.now()).toBe(1260)
  })

  it('refuses overlapping runs', async () => {
    const sim = createSimulation({ seed: 1 })
    sim.schedule(1, () => {})
    const first = sim.runFor(10)
    await expect(sim.runFor(10)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await first
  })
})
