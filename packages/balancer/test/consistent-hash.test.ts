import { describe, expect, it } from 'vitest'
import type { PickHandle } from '../src/index.js'
import { ids, setup } from './helpers.js'

describe('consistent hash with bounded load', () => {
  it('sends a key to the same endpoint every time while loads are light', () => {
    const { balancer } = setup({ policy: 'consistent-hash', endpoints: ids(5) })
    for (let k = 0; k < 50; k++) {
      const owners = new Set<string>()
      for (let i = 0; i < 5; i++) {
        const handle = balancer.pick({ key: `user:${k}` })
        owners.add(handle.endpoint.id)
        handle.complete('success')
      }
      expect(owners.size).toBe(1)
    }
  })

  it('spreads distinct keys over every endpoint', () => {
    const { balancer } = setup({ policy: 'consistent-hash', endpoints: ids(5) })
    const owners = new Map<string, number>()
    for (let k = 0; k < 2000; k++) {
      const handle = balancer.pick({ key: `user:${k}` })
      owners.set(handle.endpoint.id, (owners.get(handle.endpoint.id) ?? 0) + 1)
      handle.complete('success')
    }
    expect(owners.size).toBe(5)
    for (const count of owners.values()) expect(count).toBeGreaterThan(250)
  })

  it('bounds the load of a hot key: no endpoint exceeds ceil(1.25 × in flight / n)', () => {
    const { balancer } = setup({ policy: 'consistent-hash', endpoints: ids(4), consistentHash: { balanceFactor: 1.25 } })
    const open: PickHandle[] = []
    for (let i = 0; i < 400; i++) {
      open.push(balancer.pick({ key: 'hot' }))
      const total = open.length
      const cap = Math.ceil(1.25 * total / 4)
      for (const endpoint of balancer.endpoints()) expect(endpoint.inFlight).toBeLessThanOrEqual(cap)
    }
    for (const handle of open) handle.complete('success')
    // Once the burst is over the key is back on its owner.
    const again = balancer.pick({ key: 'hot' })
    expect(again.endpoint.id).toBe(open[0]!.endpoint.id)
  })

  it('moves an ejected endpoint\'s keys to others and gives them back when it returns', () => {
    const { balancer, clock } = setup({
      policy: 'consistent-hash', endpoints: ids(4), slowStart: false,
      outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1000 }
    })
    const ownerOf = (key: string): string => { const h = balancer.pick({ key }); h.complete('success'); return h.endpoint.id }
    const before = new Map(Array.from({ length: 200 }, (_, k) => [`k${k}`, ownerOf(`k${k}`)]))
    const victimKey = [...before.entries()].find(([, owner]) => owner === 'e2')![0]
    balancer.pick({ key: victimKey }).complete('failure')
    expect(balancer.endpoints()[2]!.ejected).toBe(true)
    const during = new Map([...before.keys()].map((key) => [key, ownerOf(key)]))
    for (const [key, owner] of before) {
      if (owner === 'e2') expect(during.get(key)).not.toBe('e2')
      else expect(during.get(key)).toBe(owner)
    }
    clock.advance(1000)
    const after = new Map([...before.keys()].map((key) => [key, ownerOf(key)]))
    expect(after).toEqual(before)
  })

  it('places keyless requests on random ring points', () => {
    const { balancer } = setup({ policy: 'consistent-hash', endpoints: ids(3) })
    const seen = new Set<string>()
    for (let i = 0; i < 100; i++) { const h = balancer.pick(); seen.add(h.endpoint.id); h.complete('success') }
    expect(seen.size).toBe(3)
  })
})
