import { describe, expect, it } from 'vitest'
import { runSeed } from '@synod/sim'
import { paxos5Workload } from './paxos-workload.js'

// Half of PAXOS_SIM_SEEDS (default 100 of 200): with paxos-3.test.ts, 300 seeds in CI.
const seeds = Math.ceil(Number(process.env.PAXOS_SIM_SEEDS ?? 200) / 2)

describe('simulation: Multi-Paxos KV on 5 nodes under every fault', () => {
  it(`${seeds} seeds keep agreement per slot, a linearizable history and liveness after healing`, async () => {
    const failures: string[] = []
    for (let seed = 0; seed < seeds; seed++) {
      const result = await runSeed(paxos5Workload, seed, { duration: 2500 })
      if (!result.ok) failures.push(`seed ${seed}: ${result.error ?? ''} (replay: pnpm --filter @synod/paxos sim paxos-5 --seed ${seed} --duration 2500 --trace)`)
    }
    expect(failures).toEqual([])
  }, 300_000)
})
