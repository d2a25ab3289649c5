/**
 * Client CPU per call: what `@synod/client` (and its lock client) costs the calling process per
 * put, get and lock acquire + release, at 1 and 16 concurrent callers, against a stand-in node in
 * another process that answers at once (bench/cpu/stand-in.ts), so only client-side work is counted.
 *
 * With `SYNOD_CLIENT_BASE=<a checkout of the baseline commit>` (e.g. `git worktree add
 * /tmp/client-base <commit>`, with each package's node_modules linked to this tree's), it runs the
 * baseline's `@synod/client` and `@synod/lock` and this tree's in alternating rounds, every other
 * package (transport-ws, balancer, interfaces) taken from the baseline checkout for both sides,
 * and prints both side by side with their ratios (medians of `ROUNDS` rounds, default 6, each cell run by one side then the other). Both sides
 * run from source through tsx. Run with `pnpm bench client`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Cell } from './cpu/cells.js'

const here = import.meta.dirname
const repo = resolve(here, '../../..')
const base = process.env.SYNOD_CLIENT_BASE === undefined ? undefined : resolve(process.env.SYNOD_CLIENT_BASE)
const rounds = Number(process.env.ROUNDS ?? 6)
const tsxLoader = import.meta.resolve('tsx')
const scratch = mkdtempSync(join(tmpdir(), 'synod-client-cpu-'))

/** A tsconfig whose paths run `@synod/client` and `@synod/lock` from `clientRoot`, the rest from `restRoot`. */
function tsconfig (name: string, clientRoot: string, restRoot: string): string {
  const file = join(scratch, `${name}.json`)
  writeFileSync(file, JSON.stringify({
    compilerOptions: {
      paths: {
        '@synod/client': [join(clientRoot, 'packages/client/src/index.ts')],
        '@synod/lock': [join(clientRoot, 'packages/lock/src/index.ts')],
        '@synod/*': [join(restRoot, 'packages/*/src/index.ts')]
      }
    }
  }))
  return file
}

const sides = base === undefined
  ? [{ name: 'this tree', config: tsconfig('current', repo, repo) }]
  : [{ name: 'baseline', config: tsconfig('base', base, base) }, { name: 'this tree', config: tsconfig('current', repo, base) }]

function tsx (script: string, config: string, env: Record<string, string> = {}): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', tsxLoader, join(here, script)], {
    cwd: resolve(here, '..'),
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: config },
    stdio: ['pipe', 'pipe', 'inherit']
  })
}

/** A child's standard output, line by line. */
function lines (child: ReturnType<typeof spawn>): AsyncIterator<string> {
  return createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
}

async function next (output: AsyncIterator<string>): Promise<string> {
  const line = await output.next()
  if (line.done === true) throw new Error('a benchmark child exited early')
  return line.value as string
}

const standIn = tsx('cpu/stand-in.ts', (sides[0] as { config: string }).config)
const address = await next(lines(standIn))
// Both sides stay up, each with its client connected and warm; they run one cell at a time, in
// turn, so that the machine's load drifts over both alike.
const children = sides.map((side) => {
  const child = tsx('cpu/cells.ts', side.config, { SYNOD_STAND_IN: address })
  return { name: side.name, child, output: lines(child) }
})
const plans = await Promise.all(children.map(async ({ output }) => JSON.parse(await next(output)) as Array<[string, number]>))
const plan = plans[0] ?? []
const load = [loadavg()[0] as number]
const results = new Map<string, Cell[][]>(sides.map((side) => [side.name, plan.map(() => [])]))
for (let round = 0; round < rounds; round++) {
  for (let at = 0; at < plan.length; at++) {
    // Alternate which side goes first.
    const order = (round + at) % 2 === 0 ? children : [...children].reverse()
    for (const { name, child, output } of order) {
      child.stdin?.write(`${at}\n`)
      results.get(name)?.[at]?.push(JSON.parse(await next(output)) as Cell)
    }
  }
  load.push(loadavg()[0] as number)
}
for (const { child } of children) child.stdin?.end()
standIn.stdin?.end()
rmSync(scratch, { recursive: true, force: true })

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return Number.isInteger(middle) ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2 : sorted[Math.floor(middle)] as number
}
const perCall = (cell: Cell): number => cell.cpuMicros / cell.calls
const rate = (cell: Cell): number => cell.calls / (cell.wallMs / 1000)
const figure = (name: string, at: number, of: (cell: Cell) => number): number => median((results.get(name)?.[at] ?? []).map(of))
const first = plan.map(([workload, callers]) => ({ workload, callers }))
console.log(`\nclient CPU per call against a stand-in node in another process, ${process.env.BENCH_MS ?? 1000} ms per cell, median of ${rounds} rounds, the two sides' cells interleaved, load average ${Math.min(...load).toFixed(1)} to ${Math.max(...load).toFixed(1)}\n`)
if (base === undefined) {
  console.log('| workload | callers | CPU µs/call | calls/s |')
  console.log('|---|---:|---:|---:|')
  first.forEach((cell, at) => { console.log(`| ${cell.workload} | ${cell.callers} | ${figure('this tree', at, perCall).toFixed(0)} | ${figure('this tree', at, rate).toFixed(0)} |`) })
} else {
  console.log('| workload | callers | CPU µs/call, baseline | this tree | ratio | calls/s, baseline | this tree | ratio |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  first.forEach((cell, at) => {
    const [cpuBase, cpuNow] = [figure('baseline', at, perCall), figure('this tree', at, perCall)]
    const [rateBase, rateNow] = [figure('baseline', at, rate), figure('this tree', at, rate)]
    console.log(`| ${cell.workload} | ${cell.callers} | ${cpuBase.toFixed(0)} | ${cpuNow.toFixed(0)} | ${(cpuNow / cpuBase).toFixed(2)} | ${rateBase.toFixed(0)} | ${rateNow.toFixed(0)} | ${(rateNow / rateBase).toFixed(2)} |`)
  })
}
