/**
 * Client CPU per call: what `@synod/client` (and its lock client) costs the calling process per
 * put, get and lock acquire + release, at 1 and 16 concurrent callers, against a stand-in node in
 * another process that answers at once (bench/cpu/stand-in.ts), so only client-side work is counted.
 *
 * With `SYNOD_CLIENT_BASE=<a checkout of the baseline commit>` (e.g. `git worktree add
 * /tmp/client-base <commit>`, with each package's node_modules linked to this tree's), it runs the
 * baseline's `@synod/client` and `@synod/lock` and this tree's in alternating rounds, every other
 * package (transport-ws, balancer, interfaces) taken from the baseline checkout for both sides,
 * and prints both side by side with their ratios (medians of `ROUNDS` rounds, default 3). Both sides
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
const rounds = Number(process.env.ROUNDS ?? 3)
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
  return spawn(process.execPath, ['--import', 'tsx', join(here, script)], {
    cwd: resolve(here, '..'),
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: config },
    stdio: ['pipe', 'pipe', 'inherit']
  })
}

async function firstLine (child: ReturnType<typeof spawn>): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  for await (const line of lines) if (line.trim() !== '') return line
  throw new Error('the child printed nothing')
}

const standIn = tsx('cpu/stand-in.ts', (sides[0] as { config: string }).config)
const address = await firstLine(standIn)
const load = [loadavg()[0] as number]
const results = new Map<string, Cell[][]>(sides.map((side) => [side.name, []]))
for (let round = 0; round < rounds; round++) {
  // Alternate which side goes first, so drift in the machine's load does not favour one.
  const order = round % 2 === 0 ? sides : [...sides].reverse()
  for (const side of order) {
    const child = tsx('cpu/cells.ts', side.config, { SYNOD_STAND_IN: address })
    child.stdin?.end()
    results.get(side.name)?.push(JSON.parse(await firstLine(child)) as Cell[])
    load.push(loadavg()[0] as number)
  }
}
standIn.stdin?.end()
rmSync(scratch, { recursive: true, force: true })

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}
const perCall = (cell: Cell): number => cell.cpuMicros / cell.calls
const rate = (cell: Cell): number => cell.calls / (cell.wallMs / 1000)
const figure = (name: string, at: number, of: (cell: Cell) => number): number => median((results.get(name) ?? []).map((cells) => of(cells[at] as Cell)))

const first = (results.get(sides[0]?.name ?? '') ?? [])[0] ?? []
console.log(`\nclient CPU per call against an stand-in node in another process, ${process.env.BENCH_MS ?? 1000} ms per cell, median of ${rounds} alternating rounds, load average ${Math.min(...load).toFixed(1)} to ${Math.max(...load).toFixed(1)}\n`)
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
