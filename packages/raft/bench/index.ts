/**
 * `pnpm bench raft`: Raft throughput, latency, memory and election time. Printed as tables; the
 * core-alone, one-proposer and per-entry-copy rows are the baselines the driver rows compare against.
 *
 * `RAFT_BENCH_ROWS=memory,no-copy,baseline,file,core,commit,elections` picks row groups (default: all);
 * `commit` compares eager and lazy commit propagation in `RAFT_BENCH_ROUNDS` interleaved rounds;
 * `RAFT_BENCH_MS` sets the measured window per row.
 */
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchCluster } from './cluster.js'
import type { BenchStorage } from './cluster.js'
import { benchCoreOnly } from './core-only.js'
import { benchElections } from './election.js'
import { formatRate } from './support.js'

const durationMs = Number(process.env.RAFT_BENCH_MS ?? 3000)
const crashes = Number(process.env.RAFT_BENCH_CRASHES ?? 1000)
const groups = new Set((process.env.RAFT_BENCH_ROWS ?? 'core,memory,no-copy,baseline,semi-space,file,commit,elections').split(','))
// The `semi-space` rows rerun the 1000- and 10000-proposer memory rows in a child process with a
// larger young generation (garbage collection is a fifth of the time otherwise); the child prints
// table rows only.
const child = process.env.RAFT_BENCH_CHILD === '1'
const flagsLabel = child ? ', `node --max-semi-space-size=64`' : ''

const load = (): string => (loadavg()[0] ?? 0).toFixed(1)

if (!child) {
  console.log(`# @synod/raft benchmark (3 nodes in one process, 100-byte entries, ${durationMs} ms per row)\n`)
  console.log('Entries per CPU-second divide by the CPU time (user + system) the whole process used in the window;')
  console.log('on a shared machine they are steadier than the wall-clock rate. Load is the 1-minute load average at the end of the row.\n')
  console.log('| setup | proposers | committed entries/s | per CPU-second | p50 commit latency | p99 commit latency | load |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
}

if (groups.has('core')) {
  const core = benchCoreOnly(durationMs, 1024)
  console.log(`| core alone, synchronous delivery, no I/O (ceiling) | batches of 1024 | ${formatRate(core.entries / core.seconds)} | ${formatRate(core.entries / core.cpuSeconds)} | - | - | ${load()} |`)
}

const rows: Array<{ group: string, storage: BenchStorage, label: string, proposers: number[] }> = [
  { group: 'memory', storage: 'memory', label: 'driver, memory network + memory storage (copies entry bytes)', proposers: [1, 1000, 10_000] },
  { group: 'no-copy', storage: 'memory-no-copy', label: 'driver, memory network + memory storage `{ copy: false }`', proposers: [1000, 10_000] },
  { group: 'baseline', storage: 'per-entry-copy', label: 'driver, memory network + previous memory log (one buffer per entry; baseline)', proposers: [1000] },
  { group: 'file', storage: 'file', label: 'driver, memory network + file WAL (fdatasync)', proposers: [1000, 10_000] }
]
for (const row of rows) {
  for (const proposers of row.proposers) {
    // `memory-10k` or `memory-1k` picks one row of a group (the child process runs those).
    const one = proposers === 10_000 ? `${row.group}-10k` : proposers === 1000 ? `${row.group}-1k` : undefined
    if (!groups.has(row.group) && !(one !== undefined && groups.has(one))) continue
    const r = await benchCluster({ storage: row.storage, proposers, durationMs })
    console.log(`| ${row.label}${flagsLabel} | ${proposers} | ${formatRate(r.entries / r.seconds)} | ${formatRate(r.entries / r.cpuSeconds)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${load()} |`)
  }
}

if (groups.has('semi-space') && !child) {
  const run = spawnSync(process.execPath, [...process.execArgv, '--max-semi-space-size=64', fileURLToPath(import.meta.url)], {
    env: { ...process.env, RAFT_BENCH_CHILD: '1', RAFT_BENCH_ROWS: 'memory-1k,no-copy-1k,memory-10k,no-copy-10k' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8'
  })
  process.stdout.write(run.stdout)
}
if (child) process.exit(0)

const rssMb = process.resourceUsage().maxRSS / 1024
console.log(`\npeak RSS: ${rssMb.toFixed(0)} MB (whole process, all rows but the child process's)\n`)

if (groups.has('commit')) {
  // Eager vs lazy commit propagation, interleaved A/B rounds (the machine is shared: compare ratios).
  const rounds = Number(process.env.RAFT_BENCH_ROUNDS ?? 3)
  console.log('| commit propagation | proposers | committed entries/s | messages per entry | empty appends per entry | CPU µs per entry | p50 commit latency | load |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const proposers of [1, 64]) {
    const totals = { eager: { entries: 0, seconds: 0, cpu: 0, messages: 0, empty: 0, p50: [] as number[] }, lazy: { entries: 0, seconds: 0, cpu: 0, messages: 0, empty: 0, p50: [] as number[] } }
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? ['eager', 'lazy'] as const : ['lazy', 'eager'] as const) {
        const r = await benchCluster({ storage: 'memory', proposers, durationMs, commitPropagation: mode })
        const t = totals[mode]
        t.entries += r.entries
        t.seconds += r.seconds
        t.cpu += r.cpuSeconds
        t.messages += r.messages
        t.empty += r.emptyAppends
        t.p50.push(r.p50)
      }
    }
    for (const mode of ['eager', 'lazy'] as const) {
      const t = totals[mode]
      const p50 = [...t.p50].sort((a, b) => a - b)[Math.floor(t.p50.length / 2)] ?? Number.NaN
      console.log(`| ${mode} (${rounds} rounds) | ${proposers} | ${formatRate(t.entries / t.seconds)} | ${(t.messages / t.entries).toFixed(2)} | ${(t.empty / t.entries).toFixed(2)} | ${(1e6 * t.cpu / t.entries).toFixed(1)} | ${p50.toFixed(2)} ms | ${load()} |`)
    }
    const e = totals.eager
    const l = totals.lazy
    console.log(`| lazy / eager | ${proposers} | ${((l.entries / l.seconds) / (e.entries / e.seconds)).toFixed(2)} | ${((l.messages / l.entries) / (e.messages / e.entries)).toFixed(2)} | - | ${((l.cpu / l.entries) / (e.cpu / e.entries)).toFixed(2)} | - | - |`)
  }
  console.log('')
}

if (groups.has('elections')) {
  const times = (await benchElections(crashes)).sort((a, b) => a - b)
  const at = (p: number): number => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? Number.NaN
  console.log(`| election after leader loss (${times.length} simulated power losses, defaults: 100 ms tick, T = 1 s, pre-vote, check-quorum) | median | p99 | max |`)
  console.log('|---|---:|---:|---:|')
  console.log(`| time until a new leader, virtual ms | ${at(50).toFixed(0)} | ${at(99).toFixed(0)} | ${(times.at(-1) ?? Number.NaN).toFixed(0)} |`)
}
