import { describe, expect, it } from 'vitest'
import { createJumpRing, createKetamaRing, createMaglevRing, createRendezvousRing, createVnodeRing, murmur3, ringFingerprint } from '../src/index.js'
import type { Ring } from '../src/index.js'

/**
 * Placement is a contract between processes and between versions: a node running this version and
 * one running the next must agree on every key. These values were recorded once; if a change to
 * the code alters any of them, that change breaks every deployed cluster and needs a new state
 * `format`, not an update of this file.
 */
const NODES = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
const SAMPLE = ['k0', 'k1', 'user:42', 'ключ', 'shard-7', 'x'.repeat(33)]
const KEYS = recordedKeys(10_000, 77)

/**
 * The keys the digests below were recorded on. Like the recorded owners, they are frozen here: a
 * private mulberry32 rather than a shared generator, so no change elsewhere (say, to the
 * simulator's random streams) can alter the input of a cross-version placement check.
 */
function recordedKeys (count: number, seed: number): string[] {
  let state = seed >>> 0
  const keys: string[] = []
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    keys.push(`key:${((t ^ (t >>> 14)) >>> 0).toString(36)}:${i}`)
  }
  return keys
}

const GOLDEN: Array<[string, () => Ring, string[], string[]]> = [
  ['vnode', () => createVnodeRing({ nodes: NODES }), ['charlie', 'alpha', 'delta', 'delta', 'delta', 'charlie'], ['delta', 'alpha', 'echo']],
  ['ketama', () => createKetamaRing({ nodes: NODES }), ['echo', 'delta', 'bravo', 'delta', 'charlie', 'bravo'], ['bravo', 'charlie', 'delta']],
  ['jump', () => createJumpRing({ nodes: NODES }), ['bravo', 'charlie', 'bravo', 'bravo', 'alpha', 'charlie'], ['bravo', 'delta', 'echo']],
  ['weighted rendezvous', () => createRendezvousRing({ nodes: NODES.map((id, i) => ({ id, weight: 1 + i })) }), ['charlie', 'echo', 'delta', 'alpha', 'delta', 'delta'], ['delta', 'echo', 'bravo']],
  ['maglev', () => createMaglevRing({ nodes: NODES }), ['echo', 'alpha', 'charlie', 'echo', 'alpha', 'delta'], ['charlie', 'bravo', 'delta']]
]

describe.each(GOLDEN)('%s placement is stable across versions', (_name, make, owners, preference) => {
  it('maps recorded keys to the recorded nodes', () => {
    const ring = make()
    expect(SAMPLE.map(key => ring.get(key))).toEqual(owners)
    expect(ring.lookup('user:42', 3)).toEqual(preference)
  })

  it('maps 10,000 keys to the recorded digest, and keeps its state fingerprint', () => {
    const ring = make()
    expect({ mapping: murmur3(KEYS.map(key => ring.get(key)).join(',')), state: ringFingerprint(ring) }).toMatchSnapshot()
  })
})
