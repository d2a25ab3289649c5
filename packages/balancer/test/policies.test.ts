import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { POLICY_NAMES, type PickHandle } from '../src/index.js'
import { ids, setup, tally } from './helpers.js'

describe('round robin', () => {
  it('visits every endpoint in turn', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(3) })
    const order = Array.from({ length: 6 }, () => { const h = balancer.pick(); h.complete('success'); return h.endpoint.id })
    expect(order).toEqual(['e0', 'e1', 'e2', 'e0', 'e1', 'e2'])
  })
})

describe('smooth weighted round robin', () => {
  it('spreads picks of a heavy endpoint out as nginx does ({5,1,1} → a a b a c a a)', () => {
    const { balancer } = setup({ policy: 'weighted-round-robin', endpoints: [{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }] })
    const order = Array.from({ length: 7 }, () => { const h = balancer.pick(); h.complete('success'); return h.endpoint.id })
    expect(order.join(' ')).toBe('a a b a c a a')
  })

  it('gives each endpoint exactly its weight share over a full cycle', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }), (weights) => {
      const { balancer } = setup({ policy: 'weighted-round-robin', endpoints: weights.map((weight, i) => ({ id: `e${i}`, weight })) })
      const total = weights.reduce((a, b) => a + b, 0)
      const counts = tally(balancer, total * 3)
      weights.forEach((weight, i) => { expect(counts.get(`e${i}`)).toBe(weight * 3) })
    }))
  })
})

describe('random', () => {
  it('spreads picks roughly uniformly and replays for a seed', () => {
    const { balancer } = setup({ policy: 'random', endpoints: ids(4) }, 11)
    const counts = tally(balancer, 4000)
    for (const count of counts.values()) expect(count).toBeGreaterThan(850)
    const again = setup({ policy: 'random', endpoints: ids(4) }, 11)
    expect(tally(again.balancer, 4000)).toEqual(counts)
  })
})

describe('least request', () => {
  it('always picks an endpoint with the fewest requests in flight', () => {
    const { balancer } = setup({ policy: 'least-request', endpoints: ids(4) })
    const open: PickHandle[] = []
    for (let i = 0; i < 40; i++) {
      const before = balancer.endpoints()
      const least = Math.min(...before.map((endpoint) => endpoint.inFlight))
      const handle = balancer.pick()
      expect(before.find((endpoint) => endpoint.id === handle.endpoint.id)!.inFlight).toBe(least)
      open.push(handle)
      // Complete some requests out of order so loads differ.
      if (i % 3 === 0) open.splice(i % open.length, 1)[0]!.complete('success')
    }
  })

  it('respects weights: a weight-2 endpoint carries twice the in-flight requests', () => {
    const { balancer } = setup({ policy: 'least-request', endpoints: [{ id: 'big', weight: 2 }, { id: 'small', weight: 1 }] })
    for (let i = 0; i < 30; i++) balancer.pick()
    const load = Object.fromEntries(balancer.endpoints().map((endpoint) => [endpoint.id, endpoint.inFlight]))
    expect(load).toEqual({ big: 20, small: 10 })
  })
})

describe('P2C least request', () => {
  it('with two endpoints always picks the less loaded one', () => {
    const { balancer } = setup({ policy: 'p2c-least-request', endpoints: ids(2) })
    for (let i = 0; i < 50; i++) balancer.pick()
    const loads = balancer.endpoints().map((endpoint) => endpoint.inFlight)
    expect(Math.abs(loads[0]! - loads[1]!)).toBeLessThanOrEqual(1)
  })

  it('never picks an endpoint that is busier than every other', () => {
    const { balancer } = setup({ policy: 'p2c-least-request', endpoints: ids(5) })
    // Hold one request open on whichever endpoint is picked first: it is then strictly the busiest.
    const held = balancer.pick()
    const counts = tally(balancer, 500)
    expect(counts.get(held.endpoint.id) ?? 0).toBe(0)
    held.complete('success')
    expect(tally(balancer, 500).get(held.endpoint.id) ?? 0).toBeGreaterThan(50)
  })
})

describe('P2C peak EWMA', () => {
  it('prefers the endpoint that answers faster', () => {
    const { balancer, clock } = setup({ policy: 'p2c-peak-ewma', endpoints: ids(3) })
    const latencyOf: Record<string, number> = { e0: 50, e1: 5, e2: 5 }
    const counts = new Map<string, number>()
    for (let i = 0; i < 3000; i++) {
      const handle = balancer.pick()
      counts.set(handle.endpoint.id, (counts.get(handle.endpoint.id) ?? 0) + 1)
      handle.complete('success', latencyOf[handle.endpoint.id])
      clock.advance(1)
    }
    expect(counts.get('e0') ?? 0).toBeLessThan(0.1 * 3000)
    const estimate = balancer.endpoints().find((endpoint) => endpoint.id === 'e0')!.latencyEstimateMs
    expect(estimate).toBeGreaterThan(20)
  })

  it('jumps to a slow sample at once and decays back with time', () => {
    const { balancer, clock } = setup({ policy: 'p2c-peak-ewma', endpoints: ids(1), peakEwma: { decayMs: 1000 } })
    balancer.pick().complete('success', 10)
    balancer.pick().complete('success', 200)
    expect(balancer.endpoints()[0]!.latencyEstimateMs).toBe(200)
    clock.advance(1000)
    balancer.pick().complete('success', 10)
    // One time constant later the old peak weighs 1/e: 200/e + 10(1 - 1/e) ≈ 79.9
    expect(balancer.endpoints()[0]!.latencyEstimateMs).toBeCloseTo(200 / Math.E + 10 * (1 - 1 / Math.E), 6)
  })

  it('does not let fast failures make an endpoint look cheap', () => {
    const { balancer } = setup({ policy: 'p2c-peak-ewma', endpoints: ids(1), outlierDetection: false })
    balancer.pick().complete('success', 40)
    for (let i = 0; i < 20; i++) balancer.pick().complete('failure', 1)
    expect(balancer.endpoints()[0]!.latencyEstimateMs).toBe(40)
  })
})

describe('every policy', () => {
  it.each(POLICY_NAMES)('%s only picks current endpoints and reports its name', (policy) => {
    const { balancer } = setup({ policy, endpoints: ids(5) })
    expect(balancer.policy).toBe(policy)
    balancer.remove('e2')
    balancer.add({ id: 'late' })
    const counts = tally(balancer, 500)
    expect(counts.has('e2')).toBe(false)
    for (const id of counts.keys()) expect(['e0', 'e1', 'e3', 'e4', 'late']).toContain(id)
  })

  it.each(POLICY_NAMES)('%s honours exclude unless it would leave nothing', (policy) => {
    const { balancer } = setup({ policy, endpoints: ids(3) })
    for (let i = 0; i < 50; i++) {
      const handle = balancer.pick({ exclude: new Set(['e0', 'e1']) })
      expect(handle.endpoint.id).toBe('e2')
      handle.complete('success')
    }
    const handle = balancer.pick({ exclude: new Set(['e0', 'e1', 'e2']) })
    expect(['e0', 'e1', 'e2']).toContain(handle.endpoint.id)
  })
})
