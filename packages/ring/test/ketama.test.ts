import HashRing from 'hashring'
import { describe, expect, it } from 'vitest'
import { createKetamaRing, createRing } from '../src/index.js'
import type { Ring } from '../src/index.js'
import { nodeIds, seededKeys } from './helpers.js'

const KEYS = seededKeys(5_000, 3)
const UNICODE_KEYS = ['', 'ключ', '鍵', '🔑-emoji', 'a\u0000b', 'x'.repeat(300)]

function expectSameMapping (ours: Ring, theirs: HashRing, keys: readonly string[]): void {
  let differences = 0
  for (const key of keys) if (ours.get(key) !== theirs.get(key)) differences++
  expect(differences).toBe(0)
}

describe('ketama mode', () => {
  it('maps every key exactly as hashring does', () => {
    for (const servers of [nodeIds(10), ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'], nodeIds(37, 'cache-'), ['solo']]) {
      expectSameMapping(createKetamaRing({ nodes: servers }), new HashRing(servers), [...KEYS, ...UNICODE_KEYS])
    }
  })

  it('matches hashring with weights, including its floating-point point counts', () => {
    const weights = { 'a:1': 1, 'b:1': 3, 'c:1': 2, 'd:1': 7, 'e:1': 1 }
    const ring = createKetamaRing({ nodes: Object.entries(weights).map(([id, weight]) => ({ id, weight })) })
    expectSameMapping(ring, new HashRing(weights), KEYS)
  })

  it('matches hashring\'s hash_ring compatibility (3 points per digest) and custom vnode counts', () => {
    const servers = nodeIds(6)
    expectSameMapping(createKetamaRing({ nodes: servers, replicas: 3 }), new HashRing(servers, 'md5', { compatibility: 'hash_ring' }), KEYS)
    expectSameMapping(createKetamaRing({ nodes: servers, vnodes: 100 }), new HashRing(servers, 'md5', { 'vnode count': 100 }), KEYS)
  })

  it('matches hashring\'s range() preference lists', () => {
    const servers = nodeIds(8)
    const ours = createKetamaRing({ nodes: servers })
    const theirs = new HashRing(servers)
    const differing = KEYS.slice(0, 2_000).filter(key => ours.lookup(key, 3).join() !== theirs.range(key, 3).join())
    expect(differing).toEqual([])
  })

  it('stays equal through add and remove', () => {
    const servers = nodeIds(10)
    const ours = createKetamaRing({ nodes: servers })
    const theirs = new HashRing(servers)
    ours.add('node-10')
    theirs.add('node-10')
    expectSameMapping(ours, theirs, KEYS)
    ours.remove('node-4')
    theirs.remove('node-4')
    expectSameMapping(ours, theirs, KEYS)
    expectSameMapping(createRing(ours.toJSON()), theirs, KEYS)
  })

  it('reports its md5 key hash, so it is never range-diffed against a murmur ring', () => {
    expect(createKetamaRing().keyHash).toBe('ketama-md5')
    expect(() => createKetamaRing({ replicas: 5 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'replicas' }))
  })
})
