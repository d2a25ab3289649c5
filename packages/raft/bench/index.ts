/**
 * `pnpm bench raft`: Raft throughput, latency, memory and election time. Printed as tables; the
 * core-alone and one-proposer rows are the baselines the driver rows compare against.
 */
import { benchCluster } from './cluster.js'
import { benchCoreOnly } from './core-only.js'
import { benchElections } from './election.js'
import { formatRate } from './support.js'

const durationMs = Number(process.env.RAFT_BENCH_MS ?? 3000)
const crashes = Number(process.env.RAFT_BENCH_CRASHES ?? 1000)

console.log(`# @synod/raft benchmark (3 nodes in one process, 100-byte entries, ${durationMs} ms per row)\n`)
console.log('| setup | proposers | committed entries/s | per CPU-second | p50 commit latency | p99 commit latency |')
console.log('|---|---:|---:|---:|---:|---:|')

const core = benchCoreOnly(durationMs, 1024)
console.log(`| core alone, synchronous delivery, no I/O (ceiling) | batches of 1024 | ${formatRate(core.entries / core.seconds)} | ${formatRate(core.entries / core.cpuSeconds)} | - | - |`)

for (const proposers of [1, 1000, 10_000]) {
  const r = await benchCluster({ storage: 'memory', proposers, durationMs })
  console.log(`| driver, memory network + memory storage | ${proposers} | ${formatRate(r.entries / r.seconds)} | ${formatRate(r.entries / r.cpuSeconds)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms |`)
}
// Benchmark-only storage (bench/zero-copy-log.ts): what the driver costs without the memory log's copies.
for (const proposers of [1000, 10_000]) {
  const r = await benchCluster({ storage: 'zero-copy', proposers, durationMs })
  console.log(`| driver, memory network + zero-copy log (benchmark-only, no entry copies) | ${proposers} | ${formatRate(r.entries / r.seconds)} | ${formatRate(r.entries / r.cpuSeconds)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms |`)
}
for (const proposers of [1000, 10_000]) {
  const r = await benchCluster({ storage: 'file', proposers, durationMs })
  console.log(`| driver, memory network + file WAL (fdatasync) | ${proposers} | ${formatRate(r.entries / r.seconds)} | ${formatRate(r.entries / r.cpuSeconds)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms |`)
}

const rssMb = process.resourceUsage().maxRSS / 1024
console.log(`\npeak RSS: ${rssMb.toFixed(0)} MB (whole process, all rows)\n`)

const times = (await benchElections(crashes)).sort((a, b) => a - b)
const at = (p: number): number => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? Number.NaN
console.log(`| election after leader loss (${times.length} simulated power losses, defaults: 100 ms tick, T = 1 s, pre-vote, check-quorum) | median | p99 | max |`)
console.log('|---|---:|---:|---:|')
console.log(`| time until a new leader, virtual ms | ${at(50).toFixed(0)} | ${at(99).toFixed(0)} | ${(times.at(-1) ?? Number.NaN).toFixed(0)} |`)
