import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createBoundedLoads, createJumpRing, createMaglevRing, createRendezvousRing, createVnodeRing } from '../src/index.js'
import type { Ring } from '../src/index.js'
import { nodeIds, seededKeys } from './helpers.js'

const KEYS = seededKeys(4_000, 5)

const RINGS: Array<[string, () => Ring]> = [
  ['vnode', () => createVnodeRing({ nodes: nodeIds(5), vnodes: 64 })],
  ['weighted vnode', () => createVnodeRing({ nodes: [{ id: 'a', weight: 1 }, { id: 'b', weight: 3 }, { id: 'c', weight: 2 }], vnodes: 64 })],
  ['jump', () => createJumpRing({ nodes: nodeIds(4) })],
  ['rendezvous', () => createRendezvousRing({ nodes: nodeIds(6) })],
  ['maglev', () => createMaglevRing({ nodes: nodeIds(3), tableSize: 251 })]
]

describe.each(RINGS)('bounded loads over %s', (_name, makeRing) => {
  it('never lets an acquire exceed ceil(c * (m + 1) * w / W), under any sequence of acquires and releases', () => {
    const operation = fc.oneof(
      { weight: 3, arbitrary: fc.record({ acquire: fc.constant(true as const), key: fc.nat({ max: 40 }) }) },
      { weight: 1, arbitrary: fc.record({ acquire: fc.constant(false as const), victim: fc.nat() }) }
    )
    fc.assert(fc.property(fc.double({ min: 1, max: 3, noNaN: true }), fc.array(operation, { maxLength: 300 }), (factor, operations) => {
      const ring = makeRing()
      const balancer = createBoundedLoads(ring, { factor })
      const held: string[] = []
      for (const op of operations) {
        if (op.acquire) {
          const node = balancer.pick(`k${op.key}`)!
          const capacity = balancer.capacity(node)
          const acquired = balancer.acquire(`k${op.key}`)
          if (acquired !== node || balancer.load(node) > capacity) {
            throw new Error(`acquire went to ${String(acquired)} (picked ${node}) with load ${balancer.load(node)} > ${capacity}`)
          }
          held.push(node)
        } else if (held.length > 0) {
          const [node] = held.splice(op.victim % held.length, 1)
          balancer.release(node!)
        }
      }
      expect(balancer.totalLoad()).toBe(held.length)
    }), { seed: 31, numRuns: 60 })
  })

  it('keeps every node at most ceil(c * m * w / W) when only acquiring, even with all keys equal', () => {
    for (const factor of [1, 1.1, 1.25, 2]) {
      const ring = makeRing()
      const balancer = createBoundedLoads(ring, { factor })
      const violations: string[] = []
      for (let m = 1; m <= 600; m++) {
        balancer.acquire(m % 7 === 0 ? KEYS[m]! : 'hot-key')
        for (const node of ring.nodes()) {
          const bound = Math.ceil(factor * m * node.weight / ring.totalWeight)
          if (balancer.load(node.id) > bound) violations.push(`${node.id} at m=${m}: ${balancer.load(node.id)} > ${bound}`)
        }
      }
      expect(violations).toEqual([])
    }
  })

  it('sends a key to its ring owner while that owner has room', () => {
    const ring = makeRing()
    const balancer = createBoundedLoads(ring, { factor: 1.25 })
    let onOwner = 0
    for (const key of KEYS) if (balancer.acquire(key) === ring.get(key)) onOwner++
    // Only overflow leaves the owner; with uniform keys and c = 1.25 that is a small share.
    expect(onOwner / KEYS.length).toBeGreaterThan(0.8)
  })
})

describe('bounded loads API', () => {
  it('follows ring membership and tracks loads', () => {
    const ring = createVnodeRing({ nodes: ['a'], vnodes: 16 })
    const balancer = createBoundedLoads(ring)
    expect(balancer.factor).toBe(1.25)
    expect(balancer.acquire('x')).toBe('a')
    balancer.setLoad('a', 10)
    ring.add('b')
    expect(balancer.pick('x')).toBe('b')
    expect(balancer.capacity('b')).toBe(Math.ceil(1.25 * 11 / 2))
    expect(balancer.capacity('nobody')).toBe(0)
    balancer.release('a', 4)
    expect(balancer.load('a')).toBe(6)
    balancer.release('a', 100)
    expect(balancer.load('a')).toBe(0)
    expect(balancer.totalLoad()).toBe(0)
    expect(createBoundedLoads(createVnodeRing()).acquire('x')).toBeUndefined()
  })

  it('skips nodes refused by accept, in preference order, still within capacity', () => {
    const ring = createRendezvousRing({ nodes: nodeIds(5) })
    const balancer = createBoundedLoads(ring, { factor: 1.25 })
    for (const key of KEYS.slice(0, 500)) {
      const preference = ring.lookup(key, 5)
      const refused = new Set(preference.slice(0, 2))
      const node = balancer.pick(key, { accept: id => !refused.has(id) })
      expect(node).toBe(preference[2])
    }
    expect(balancer.pick('x', { accept: () => false })).toBeUndefined()
    // When every accepted node is full, the first accepted one is still returned.
    balancer.setLoad('node-1', 100)
    expect(balancer.acquire('x', { accept: id => id === 'node-1' })).toBe('node-1')
    expect(balancer.load('node-1')).toBe(101)
  })

  it('rejects a factor below 1 and negative loads with stable codes', () => {
    const ring = createVnodeRing({ nodes: ['a'] })
    expect(() => createBoundedLoads(ring, { factor: 0.9 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'factor' }))
    expect(() => { createBoundedLoads(ring).setLoad('a', -1) }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
