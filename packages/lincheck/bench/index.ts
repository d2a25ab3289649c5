// Times the checker on 20,000-operation histories of 8 clients over 4 keys (target: < 1 s each).
// Every scenario runs in the same process, one after another, several times; the table shows the
// median and the ratio to the single-client baseline, since the machine is shared and noisy.
import { performance } from 'node:perf_hooks'
import { checkHistory, createKvModel, parseHistory, stringifyHistory, type HistoryOp } from '../src/index.js'
import { injectStaleRead, planRandomWorkload, simulateRegister, xorshift } from '../test/support/register-history.js'

const TOTAL_OPS = 20_000
const KEYS = 4
const RUNS = 3
const model = createKvModel()

function history (clients: number, timeoutRate: number, failRate: number, seed: number): HistoryOp[] {
  const plan = planRandomWorkload(xorshift(seed), { clients, opsPerClient: TOTAL_OPS / clients, keys: KEYS, timeoutRate, failRate })
  return simulateRegister(plan)
}

interface Scenario { name: string, ops: number, run: () => { verdict: string, steps: number } }

const check = (ops: HistoryOp[]) => () => {
  const result = checkHistory(ops, { model })
  return { verdict: result.verdict, steps: result.keys.reduce((sum, key) => sum + key.steps, 0) }
}

const sequential = history(1, 0, 0, 1)
const clean = history(8, 0, 0, 2)
const unknown = history(8, 0.01, 0.01, 3)
const unknown5 = history(8, 0.05, 0.02, 4)
const staleClean = history(8, 0, 0, 5)
injectStaleRead(staleClean, 12345)
const stale = history(8, 0.01, 0.01, 5)
injectStaleRead(stale, 12345)
const json = stringifyHistory(unknown)

const scenarios: Scenario[] = [
  { name: 'baseline: 1 client, no concurrency', ops: sequential.length, run: check(sequential) },
  { name: '8 clients, all complete', ops: clean.length, run: check(clean) },
  { name: '8 clients, 1% timed out, 1% failed', ops: unknown.length, run: check(unknown) },
  { name: '8 clients, 5% timed out, 2% failed', ops: unknown5.length, run: check(unknown5) },
  { name: '8 clients, one stale read', ops: staleClean.length, run: check(staleClean) },
  { name: '8 clients, 1% timed out, one stale read', ops: stale.length, run: check(stale) },
  {
    name: 'parse JSON + check (1% timed out)',
    ops: unknown.length,
    run: () => {
      const result = checkHistory(parseHistory(json, model), { model })
      return { verdict: result.verdict, steps: result.keys.reduce((sum, key) => sum + key.steps, 0) }
    }
  }
]

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const rows: string[][] = []
let baselineMs = 0
for (const scenario of scenarios) {
  scenario.run() // warm up the JIT
  const times: number[] = []
  const cpuTimes: number[] = []
  let outcome = { verdict: '', steps: 0 }
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    outcome = scenario.run()
    times.push(performance.now() - start)
    cpuTimes.push(process.cpuUsage(cpuStart).user / 1000)
  }
  const ms = median(times)
  const cpuMs = median(cpuTimes)
  // Ratios use CPU time: on a shared machine wall time mostly measures the other jobs.
  if (baselineMs === 0) baselineMs = cpuMs
  rows.push([scenario.name, String(scenario.ops), outcome.verdict, String(outcome.steps), ms.toFixed(1), cpuMs.toFixed(1), `${(cpuMs / baselineMs).toFixed(2)}x`])
}

const header = ['scenario', 'ops', 'verdict', 'steps', 'wall ms', 'cpu ms', 'cpu vs baseline']
const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
const line = (cells: string[]): string => `| ${cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join(' | ')} |`
console.log(`@synod/lincheck: ${TOTAL_OPS} ops, ${KEYS} keys, median of ${RUNS} runs (wall and CPU time), node ${process.version}`)
console.log(line(header))
console.log(`|${widths.map((width, i) => i === 0 ? ` ${'-'.repeat(width)} ` : ` ${'-'.repeat(width - 1)}: `).join('|')}|`)
for (const row of rows) console.log(line(row))
