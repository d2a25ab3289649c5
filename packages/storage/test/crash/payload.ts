/** The deterministic payload of entry `index` written in `term`, so a reader can verify every byte. */
export function crashPayload (index: number, term: number): Uint8Array {
  const data = new Uint8Array(16 + (index % 48))
  for (let i = 0; i < data.length; i++) data[i] = (Math.imul(index, 2654435761) + term * 97 + i) & 0xff
  return data
}

/** mulberry32: a small seeded PRNG so every run of the crash test replays the same schedule. */
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
