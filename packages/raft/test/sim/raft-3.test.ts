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
