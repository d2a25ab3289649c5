import { describe, expect, it } from 'vitest'
import { runSeed } from '@synod/sim'
import { paxosWorkload } from './paxos-workload.js'

// PAXOS_SIM_SEEDS sets the number of seeds here (default 200); paxos-5.test.ts runs half as many on 5 nodes: 300 in CI.
const seeds = Number(process.env.PAXOS_SIM_SEEDS ?? 200)

describe('simulation: Multi-Paxos KV on 3 nodes under every fault', () => {
  it(`${seeds} seeds keep agreement per slot, a linearizable history and liveness after healing`, async () => {
    const failures: string[] = []
    for (let seed = 0; seed < seeds; seed++) {
      const result = await runSeed(paxosWorkload, seed, { duration: 2500 })
      if (!result.ok) failures.push(`seed ${seed}: ${result.error ?? ''} (replay: pnpm --filter @synod/paxos sim paxos --seed ${seed} --duration 2500 --trace)`)
    }
    expect(failures).toEqual([])
  }, 300_000)
})
