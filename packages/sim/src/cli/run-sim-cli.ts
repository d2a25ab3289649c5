import { parseArgs } from 'node:util'
import { formatTraceEntry } from '../core/trace.js'
import { assertSeed } from '../random/random.js'
import { runSeed, type SeedResult, type Workload } from '../workload/workload.js'
import { ProgressBar } from './progress.js'

/** Where the command line writes, injectable for tests. */
export interface CliOutput {
  write(text: string): void
  /** Draw a progress bar (a terminal). @default false */
  isTTY?: boolean
}

/** Options for `runSimCli`. */
export interface SimCliOptions {
  /** The workloads this command can run. */
  workloads: readonly Workload[]
  /**
   * How to invoke this command again, for the replay line printed with a failure, e.g.
   * `pnpm --filter @synod/raft sim` or `synod-sim @synod/raft/sim`.
   * @default `node <the running script>`
   */
  command?: string
  /** @default process.stdout */
  stdout?: CliOutput
  /** Progress bar and usage errors. @default process.stderr */
  stderr?: CliOutput
  /** Trace lines printed under a failing seed in a multi-seed run. @default 20 */
  tailLines?: number
}

export const usage = (command: string): string => `usage: ${command} <workload> [options]

Runs a simulated workload for many seeds, or replays one seed with its trace.

options:
  --seeds N          number of seeds to run (default 100)
  --from S           first seed (default 0); 'random' picks one from the wall clock
  --seed S           run only seed S (a replay)
  --trace            print the full event trace (with --seed)
  --duration MS      virtual milliseconds per seed (default: the workload's own)
  --set KEY=VALUE    a workload setting (repeatable)
  --fail-fast        stop at the first failing seed
  --quiet            print only failures and the summary
  --list             list the workloads
  --help             this text

exit status: 0 all seeds passed, 1 a seed failed, 2 usage error
`

interface ParsedArgs {
  workload: Workload
  seeds: number[]
  trace: boolean
  duration: number | undefined
  settings: Record<string, string>
  failFast: boolean
  quiet: boolean
  replayFlags: string[]
}

class UsageError extends Error {}

function parseInteger (name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} needs a non-negative integer, got '${text}'`)
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name} is too large: ${text}`)
  return value
}

function parse (workloads: readonly Workload[], argv: readonly string[]): ParsedArgs | 'help' | 'list' {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        seeds: { type: 'string' },
        from: { type: 'string' },
        seed: { type: 'string' },
        trace: { type: 'boolean' },
        duration: { type: 'string' },
        set: { type: 'string', multiple: true },
        'fail-fast': { type: 'boolean' },
        quiet: { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (values.list === true) return 'list'
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`)
  const name = positionals[0]
  let workload: Workload | undefined
  if (name === undefined) {
    if (workloads.length !== 1) throw new UsageError(`name a workload: ${workloads.map((w) => w.name).join(', ')}`)
    workload = workloads[0]
  } else {
    workload = workloads.find((candidate) => candidate.name === name)
    if (workload === undefined) throw new UsageError(`unknown workload '${name}'; known: ${workloads.map((w) => w.name).join(', ')}`)
  }
  if (workload === undefined) throw new UsageError('no workloads registered')

  const settings: Record<string, string> = {}
  const replayFlags: string[] = []
  for (const setting of values.set ?? []) {
    const eq = setting.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set needs KEY=VALUE, got '${setting}'`)
    settings[setting.slice(0, eq)] = setting.slice(eq + 1)
    replayFlags.push('--set', shellQuote(setting))
  }
  const duration = values.duration === undefined ? undefined : parseInteger('duration', values.duration)
  if (duration !== undefined) replayFlags.unshift('--duration', String(duration))

  let seeds: number[]
  if (values.seed !== undefined) {
    if (values.seeds !== undefined || values.from !== undefined) throw new UsageError('--seed replays one seed; do not combine it with --seeds or --from')
    seeds = [parseInteger('seed', values.seed)]
  } else {
    const count = values.seeds === undefined ? 100 : parseInteger('seeds', values.seeds)
    // The wall clock is fine here: it only picks the seeds, and each one is printed.
    const from = values.from === 'random' ? Date.now() % 1_000_000_000 : values.from === undefined ? 0 : parseInteger('from', values.from)
    if (!Number.isSafeInteger(from + count)) throw new UsageError('--from plus --seeds is too large')
    seeds = Array.from({ length: count }, (_, i) => from + i)
  }
  for (const seed of seeds) assertSeed(seed)
  if (values.trace === true && seeds.length !== 1) throw new UsageError('--trace needs --seed S (one seed)')
  return {
    workload,
    seeds,
    trace: values.trace === true,
    duration,
    settings,
    failFast: values['fail-fast'] === true,
    quiet: values.quiet === true,
    replayFlags
  }
}

function shellQuote (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`
}

function formatMs (ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : 1)}s` : `${ms.toFixed(1)}ms`
}

function formatStats (result: SeedResult): string {
  const entries = Object.entries(result.stats)
  return entries.length === 0 ? '' : `  ${entries.map(([key, value]) => `${key}=${value}`).join(' ')}`
}

function defaultCommand (): string {
  const script = process.argv[1]
  return script === undefined ? 'synod-sim' : `node ${script}`
}

/**
 * The `synod-sim` command line for a set of workloads. A package exposes its workloads with a
 * script of two lines:
 *
 * ```ts
 * import { runSimCli } from '@synod/sim'
 * process.exitCode = await runSimCli({ workloads: [myWorkload], command: 'node dist/sim.js' }, process.argv.slice(2))
 * ```
 *
 * Resolves with the exit status: 0 when every seed passed, 1 when one failed, 2 for a usage error.
 */
export async function runSimCli (options: SimCliOptions, argv: readonly string[]): Promise<number> {
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? { write: (text: string) => process.stderr.write(text), isTTY: process.stderr.isTTY }
  const command = options.command ?? defaultCommand()
  const tailLines = options.tailLines ?? 20

  let args: ReturnType<typeof parse>
  try {
    args = parse(options.workloads, argv)
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof Error && 'code' in err)) throw err
    stderr.write(`${command}: ${(err).message}\n\n${usage(command)}`)
    return 2
  }
  if (args === 'help') {
    stdout.write(usage(command))
    return 0
  }
  if (args === 'list') {
    for (const workload of options.workloads) stdout.write(`${workload.name.padEnd(24)} ${workload.description ?? ''}\n`)
    return 0
  }

  const { workload, seeds } = args
  const replay = (seed: number): string => [command, workload.name, '--seed', String(seed), ...args.replayFlags, '--trace'].join(' ')

  if (args.trace) {
    const seed = seeds[0] as number
    stdout.write(`${workload.name} seed ${seed}: trace\n`)
    const result = await runSeed(workload, seed, {
      ...(args.duration === undefined ? {} : { duration: args.duration }),
      settings: args.settings,
      trace: { record: false, tail: 0, onEntry: (entry) => { stdout.write(`${formatTraceEntry(entry)}\n`) } }
    })
    stdout.write(result.ok
      ? `seed ${seed} ok: ${formatMs(result.simulatedMs)} simulated, ${result.events} events, digest ${result.digest}${formatStats(result)}\n`
      : `seed ${seed} FAILED: ${result.error ?? 'unknown'}\ndigest ${result.digest}\n`)
    return result.ok ? 0 : 1
  }

  const bar = stderr.isTTY === true ? new ProgressBar((text) => { stderr.write(text) }, seeds.length) : undefined
  const first = seeds[0] as number
  const last = seeds.at(-1) as number
  stdout.write(`${workload.name}: seeds ${first}..${last} (${seeds.length})\n`)
  const failed: number[] = []
  let done = 0
  const started = performance.now()
  bar?.update(0, 0)
  for (const seed of seeds) {
    const result = await runSeed(workload, seed, {
      ...(args.duration === undefined ? {} : { duration: args.duration }),
      settings: args.settings,
      trace: { tail: tailLines }
    })
    done++
    bar?.clear()
    if (result.ok) {
      if (!args.quiet) {
        stdout.write(`seed ${seed} ok   ${formatMs(result.simulatedMs)} simulated, ${result.events} events, ${formatMs(result.wallMs)} wall${formatStats(result)}\n`)
      }
    } else {
      failed.push(seed)
      const tail = result.trace.split('\n').filter((line) => line !== '').slice(-tailLines).map((line) => `    ${line}`).join('\n')
      stdout.write(`seed ${seed} FAILED at ${formatMs(result.simulatedMs)}: ${result.error ?? 'unknown'}\n` +
        (tail === '' ? '' : `  last events:\n${tail}\n`) +
        `  replay: ${replay(seed)}\n`)
      if (args.failFast) break
    }
    bar?.update(done, failed.length)
  }
  bar?.clear()
  const wall = ((performance.now() - started) / 1000).toFixed(1)
  stdout.write(failed.length === 0
    ? `${done === 1 ? '1 seed' : `all ${done} seeds`} passed in ${wall}s\n`
    : `${failed.length} of ${done} seeds FAILED in ${wall}s: ${failed.join(' ')}\n`)
  return failed.length === 0 ? 0 : 1
}
