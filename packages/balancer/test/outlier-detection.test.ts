import { describe, expect, it } from 'vitest'
import { createBalancer, createSeededRandom, createVirtualClock, type PickHandle } from '../src/index.js'
import { ids, setup } from './helpers.js'

/** Completes picks of `id` with `outcome` and picks of others with success, `n` times in all. */
function drive (balancer: ReturnType<typeof setup>['balancer'], n: number, outcomeFor: (id: string) => 'success' | 'failure'): void {
  for (let i = 0; i < n; i++) {
    const handle: PickHandle = balancer.pick()
    handle.complete(outcomeFor(handle.endpoint.id))
  }
}

describe('consecutive-failure ejection', () => {
  it('ejects on the fifth failure in a row and not before', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(4) })
    const ejected: string[] = []
    balancer.addEventListener('endpoint:ejected', (event) => ejected.push(event.detail.id))
    // Round robin: e0 gets every fourth pick. 4 failures of e0, then a success, then 4 more: no ejection.
    drive(balancer, 16, (id) => id === 'e0' ? 'failure' : 'success')
    drive(balancer, 4, () => 'success')
    drive(balancer, 16, (id) => id === 'e0' ? 'failure' : 'success')
    expect(ejected).toEqual([])
    drive(balancer, 4, (id) => id === 'e0' ? 'failure' : 'success')
    expect(ejected).toEqual(['e0'])
    expect(balancer.endpoints().find((endpoint) => endpoint.id === 'e0')!.ejected).toBe(true)
    // While ejected it receives nothing.
    const picked = new Set<string>()
    for (let i = 0; i < 30; i++) { const h = balancer.pick(); picked.add(h.endpoint.id); h.complete('success') }
    expect(picked.has('e0')).toBe(false)
  })

  it('doubles the ejection time on each ejection, up to the maximum', () => {
    const { balancer, clock } = setup({
      policy: 'round-robin', endpoints: ids(2), slowStart: false,
      outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 5000 }
    })
    const durations: number[] = []
    balancer.addEventListener('endpoint:ejected', (event) => durations.push(event.detail.until - clock.now()))
    for (let round = 0; round < 5; round++) {
      // Fail e0 once (one ejection), then wait until it is back.
      for (;;) {
        const handle = balancer.pick()
        if (handle.endpoint.id === 'e0') { handle.complete('failure'); break }
        handle.complete('success')
      }
      while (balancer.endpoints().find((endpoint) => endpoint.id === 'e0')!.ejected) {
        clock.advance(100)
        balancer.pick().complete('success')
      }
    }
    expect(durations).toEqual([1000, 2000, 4000, 5000, 5000])
  })

  it('restores an ejected endpoint when its time is up, with fresh slow start', () => {
    const { balancer, clock } = setup({ policy: 'round-robin', endpoints: ids(3), outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 1000 } })
    const restored: string[] = []
    balancer.addEventListener('endpoint:restored', (event) => restored.push(event.detail.id))
    drive(balancer, 6, (id) => id === 'e1' ? 'failure' : 'success')
    expect(balancer.endpoints()[1]!.ejected).toBe(true)
    clock.advance(999)
    balancer.pick().complete('success')
    expect(restored).toEqual([])
    clock.advance(1)
    balancer.pick().complete('success')
    expect(restored).toEqual(['e1'])
    const e1 = balancer.endpoints()[1]!
    expect(e1.ejected).toBe(false)
    expect(e1.slowStartFactor).toBeLessThan(1)
  })

  it('never ejects more than floor(endpoints × maxEjectedShare)', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(5), outlierDetection: { consecutiveFailures: 1, maxEjectedShare: 0.4 } })
    drive(balancer, 100, () => 'failure')
    expect(balancer.endpoints().filter((endpoint) => endpoint.ejected)).toHaveLength(2)
  })

  it('ejects nobody when the share allows less than one endpoint', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(3), outlierDetection: { maxEjectedShare: 0.2 } })
    drive(balancer, 60, (id) => id === 'e0' ? 'failure' : 'success')
    expect(balancer.endpoints().some((endpoint) => endpoint.ejected)).toBe(false)
  })

  it('restores ejected endpoints when a removal lowers the cap', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(4), outlierDetection: { consecutiveFailures: 1, maxEjectedShare: 0.5 } })
    drive(balancer, 4, (id) => id === 'e0' || id === 'e1' ? 'failure' : 'success')
    expect(balancer.endpoints().filter((endpoint) => endpoint.ejected)).toHaveLength(2)
    balancer.remove('e3')
    expect(balancer.endpoints().filter((endpoint) => endpoint.ejected)).toHaveLength(1)
  })

  it('logs ejections and restorations through the injected logger', () => {
    const lines: Array<{ level: string, fields: Record<string, unknown>, message: string | undefined }> = []
    const logger = {
      trace: () => {},
      debug: () => {},
      info: (fields: Record<string, unknown>, message?: string) => { lines.push({ level: 'info', fields, message }) },
      warn: (fields: Record<string, unknown>, message?: string) => { lines.push({ level: 'warn', fields, message }) },
      error: () => {},
      child (bindings: Record<string, unknown>) { expect(bindings).toEqual({ component: 'balancer' }); return logger }
    }
    const clock = createVirtualClock()
    const balancer = createBalancer({ policy: 'round-robin', endpoints: ids(2), outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 100 } }, { clock, random: createSeededRandom(1), logger })
    drive(balancer, 2, (id) => id === 'e0' ? 'failure' : 'success')
    clock.advance(100)
    balancer.pick().complete('success')
    expect(lines.map((line) => `${line.level} ${String(line.fields.endpoint)} ${line.message ?? ''}`)).toEqual(['warn e0 endpoint ejected', 'info e0 endpoint restored'])
  })

  it('can be disabled', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(2), outlierDetection: false })
    drive(balancer, 100, () => 'failure')
    expect(balancer.endpoints().some((endpoint) => endpoint.ejected)).toBe(false)
  })
})

describe('success-rate ejection', () => {
  it('ejects an endpoint whose success rate is far below its peers at the interval', async () => {
    const { balancer, clock } = setup({
      policy: 'round-robin', endpoints: ids(6),
      outlierDetection: { consecutiveFailures: 0, intervalMs: 1000, successRate: { requestVolume: 50, minimumHosts: 5, stdevFactor: 1.9 } }
    })
    await balancer.start()
    const events: Array<{ id: string, reason: string }> = []
    balancer.addEventListener('endpoint:ejected', (event) => events.push({ id: event.detail.id, reason: event.detail.reason }))
    // e3 fails every other request (50%); the others all succeed. Never 5 in a row, so only the
    // statistical detector can catch it.
    let e3 = 0
    drive(balancer, 600, (id) => id === 'e3' && (e3++ % 2 === 0) ? 'failure' : 'success')
    expect(events).toEqual([])
    clock.advance(1000)
    expect(events).toEqual([{ id: 'e3', reason: 'success-rate' }])
    await balancer.stop()
  })

  it('judges nobody when too few endpoints have enough requests', async () => {
    const { balancer, clock } = setup({
      policy: 'round-robin', endpoints: ids(6),
      outlierDetection: { consecutiveFailures: 0, intervalMs: 1000, successRate: { requestVolume: 200 } }
    })
    await balancer.start()
    let e3 = 0
    drive(balancer, 600, (id) => id === 'e3' && (e3++ % 2 === 0) ? 'failure' : 'success')
    clock.advance(1000)
    expect(balancer.endpoints().some((endpoint) => endpoint.ejected)).toBe(false)
    await balancer.stop()
  })

  it('quiet intervals earn back the exponential ejection time, one step each', async () => {
    const { balancer, clock } = setup({
      policy: 'round-robin', endpoints: ids(2), slowStart: false,
      outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1000, intervalMs: 500, successRate: false }
    })
    await balancer.start()
    const failE0 = (): void => {
      for (;;) {
        const handle = balancer.pick()
        handle.complete(handle.endpoint.id === 'e0' ? 'failure' : 'success')
        if (handle.endpoint.id === 'e0') return
      }
    }
    const e0 = () => balancer.endpoints().find((endpoint) => endpoint.id === 'e0')!
    failE0()
    clock.advance(1000)
    failE0()
    expect(e0().ejectionCount).toBe(2)
    clock.advance(2000)
    expect(e0().ejected).toBe(false)
    // Two quiet intervals later the count is back to zero: the next ejection lasts the base time.
    clock.advance(1000)
    expect(e0().ejectionCount).toBe(0)
    failE0()
    expect(e0().ejectedUntil! - clock.now()).toBe(1000)
    await balancer.stop()
  })

  it('stop() cancels the interval timer and start()/stop() are idempotent', async () => {
    const { balancer, clock } = setup({ policy: 'round-robin', endpoints: ids(2) })
    await balancer.start()
    await balancer.start()
    expect(clock.pendingTimers).toBe(1)
    await balancer.stop()
    await balancer.stop()
    expect(clock.pendingTimers).toBe(0)
  })
})
