/**
 * `pnpm bench paxos`: Multi-Paxos and Raft side by side on the same in-process workload (3 nodes,
 * the memory network, memory or file storage, 100-byte commands proposed on the leader). Rows run
 * alternately in one process, so the machine's noise hits both; compare the ratio.
 */
import { benchCluster } from './cluster.js'
import type { ClusterResult } from './cluster.js'
import { formatRate } from './support.js'

const durationMs = Number(process.env.PAXOS_BENCH_MS ?? 2000)
const rounds = Number(process.env.PAXOS_BENCH_ROUNDS ?? 3)

const allRows: Array<{ storage: 'memory' | 'file', proposers: number }> = [
  { storage: 'memory', proposers: 1 },
  { storage: 'memory', proposers: 1000 },
  { storage: 'file', proposers: 1 },
  { storage: 'file', proposers: 1000 }
]
// PAXOS_BENCH_ROWS=memory:1000,file:1000 runs only those rows.
const only = process.env.PAXOS_BENCH_ROWS?.split(',')
const rows = only === undefined ? allRows : allRows.filter((row) => only.includes(`${row.storage}:${row.proposers}`))

console.log(`# @synod/paxos vs @synod/raft (3 nodes in one process, 100-byte commands, ${durationMs} ms per run, best of ${rounds} alternating runs)\n`)
console.log('| storage | proposers | Paxos entries/s | Raft entries/s | Paxos / Raft | Paxos p50 / p99 | Raft p50 / p99 |')
console.log('|---|---:|---:|---:|---:|---:|---:|')

const best = (a: ClusterResult | undefined, b: ClusterResult): ClusterResult => (a === undefined || b.entries / b.seconds > a.entries / a.seconds ? b : a)
for (const row of rows) {
  let paxos: ClusterResult | undefined
  let raft: ClusterResult | undefined
  for (let round = 0; round < rounds; round++) {
    paxos = best(paxos, await benchCluster('paxos', { ...row, durationMs }))
    raft = best(raft, await benchCluster('raft', { ...row, durationMs }))
  }
  const p = paxos!
  const r = raft!
  const pRate = p.entries / p.seconds
  const rRate = r.entries / r.seconds
  console.log(`| ${row.storage} | ${row.proposers} | ${formatRate(pRate)} | ${formatRate(rRate)} | ${(pRate / rRate).toFixed(2)} | ${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} ms | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} ms |`)
}
