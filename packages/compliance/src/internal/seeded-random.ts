/**
 * The compliance suites' one source of randomness: mulberry32, a tiny seeded generator, so a
 * randomized check replays exactly from its seed.
 *
 * Why not `createRandom` from `@synod/sim`: this package ships to every implementer of a Synod
 * contract as a runtime dependency, and `@synod/sim` already depends on it (to run these suites
 * against its simulated disk and network), so depending back would make a cycle. Twelve lines do
 * not justify one. The sequences are part of what the suites check (a failure report names the
 * seed), so this generator must not change.
 */

/** A float in [0, 1) per call, from the 32-bit seed `seed`. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Byte strings of random length 0..`maxLength` and random content, drawn from `random`. */
export function seededBytes (random: () => number): (maxLength: number) => Uint8Array {
  return (maxLength) => {
    const bytes = new Uint8Array(Math.floor(random() * (maxLength + 1)))
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
    return bytes
  }
}
