import { describe, expect, it } from 'vitest'
import { runSeed } from '@synod/sim'
import { raft5Workload } from './raft-workload.js'

// RAFT_SIM_SEEDS sets the number of seeds (half of it here, on 5 nodes, plus RAFT_SIM_SEEDS on 3 nodes in raft-3.test.ts: 300 in CI).
const seeds = Math.floor(Number(process.env.RAFT_SIM_SEEDS ?? 200) / 2)

describe('simulation: Raft KV on 5 nodes under every fault', () => {
  it(`${seeds} seeds keep every safety invariant, a linearizable history and liveness after healing`, async () => {
    const failures: string[] = []
    for (let seed = 0; seed < seeds; seed++) {
      const result = await runSeed(raft5Workload, seed, { duration: 4000 })
      if (!result.ok) failures.push(`seed ${seed}: ${result.error ?? ''} (replay: pnpm --filter @synod/raft sim raft-5 --seed ${seed} --duration 4000 --trace)`)
    }
    expect(failures).toEqual([])
  }, 170_000)
})
