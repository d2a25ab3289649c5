import { describe, expect, it } from 'vitest'
import { runSeed } from '@synod/sim'
import { raftWorkload } from './raft-workload.js'

// RAFT_SIM_SEEDS sets the number of seeds here (default 200); raft-5.test.ts runs half as many on 5 nodes: 300 in CI.
const seeds = Number(process.env.RAFT_SIM_SEEDS ?? 200)

describe('simulation: Raft KV on 3 nodes under every fault', () => {
  it(`${seeds} seeds keep every safety invariant, a linearizable history and liveness after healing`, async () => {
    const failures: string[] = []
    for (let seed = 0; seed < seeds; seed++) {
      const result = await runSeed(raftWorkload, seed, { duration: 4000 })
      if (!result.ok) failures.push(`seed ${seed}: ${result.error ?? ''} (replay: pnpm --filter @synod/raft sim raft --seed ${seed} --duration 4000 --trace)`)
    }
    expect(failures).toEqual([])
  }, 170_000)
})

// Lazy commit propagation changes when followers learn the commit index; a few seeds in CI (the
// sim command line runs thousands: `pnpm --filter @synod/raft sim raft --seeds 2000 --set commit=lazy`).
const lazySeeds = Math.ceil(seeds / 5)

describe('simulation: Raft KV on 3 nodes with lazy commit propagation', () => {
  it(`${lazySeeds} seeds keep every safety invariant, a linearizable history and liveness after healing`, async () => {
    const failures: string[] = []
    for (let seed = 100_000; seed < 100_000 + lazySeeds; seed++) {
      const result = await runSeed(raftWorkload, seed, { duration: 4000, settings: { commit: 'lazy' } })
      if (!result.ok) failures.push(`seed ${seed}: ${result.error ?? ''} (replay: pnpm --filter @synod/raft sim raft --seed ${seed} --duration 4000 --set commit=lazy --trace)`)
    }
    expect(failures).toEqual([])
  }, 90_000)
})
