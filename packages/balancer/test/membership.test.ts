import { describe, expect, it } from 'vitest'
import { ids, setup, tally } from './helpers.js'

describe('runtime membership', () => {
  it('rejects duplicate ids and invalid weights with ERR_INVALID_ARGUMENT', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(2) })
    expect(() => { balancer.add({ id: 'e0' }) }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'id' }))
    expect(() => { balancer.add({ id: 'x', weight: 0 }) }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'weight' }))
    expect(() => { balancer.add({ id: 'y', weight: Number.NaN }) }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => setup({ policy: 'round-robin', endpoints: [{ id: 'a' }, { id: 'a' }] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('emits added and removed events and reports unknown removals', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(1) })
    const seen: string[] = []
    balancer.addEventListener('endpoint:added', (event) => seen.push(`+${event.detail.id}`))
    balancer.addEventListener('endpoint:removed', (event) => seen.push(`-${event.detail.id}`))
    balancer.add({ id: 'n' })
    expect(balancer.remove('e0')).toBe(true)
    expect(balancer.remove('e0')).toBe(false)
    expect(seen).toEqual(['+n', '-e0'])
  })

  it('a handle picked before its endpoint was removed completes harmlessly', () => {
    const { balancer } = setup({ policy: 'least-request', endpoints: ids(2) })
    const handle = balancer.pick()
    balancer.remove(handle.endpoint.id)
    handle.complete('failure')
    expect(balancer.endpoints().every((endpoint) => endpoint.inFlight === 0)).toBe(true)
  })

  it('an endpoint added at runtime warms up through slow start', () => {
    const { balancer, clock } = setup({ policy: 'round-robin', endpoints: ids(4), slowStart: { windowMs: 10_000, minWeightShare: 0.1 } })
    balancer.add({ id: 'new' })
    expect(balancer.endpoints().find((endpoint) => endpoint.id === 'new')!.slowStartFactor).toBeCloseTo(0.1)
    const early = tally(balancer, 5000).get('new') ?? 0
    clock.advance(5_000)
    expect(balancer.endpoints().find((endpoint) => endpoint.id === 'new')!.slowStartFactor).toBeCloseTo(0.5)
    const middle = tally(balancer, 5000).get('new') ?? 0
    clock.advance(5_000)
    const after = tally(balancer, 5000).get('new') ?? 0
    expect(early).toBeGreaterThan(0)
    expect(early).toBeLessThan(middle)
    expect(middle).toBeLessThan(after)
    expect(after).toBe(1000)
  })

  it('endpoints given at creation take full traffic at once', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(4) })
    expect(balancer.endpoints().every((endpoint) => endpoint.slowStartFactor === 1)).toBe(true)
  })
})
