/**
 * `test:faults`: runs the fault-injection suite. Needs root.
 *
 *   tsx src/cli.ts --profile short|long [--seed N] [--engine raft] [--fault-seconds N] [--results DIR]
 */
import { realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PROFILES, type Profile } from './run/profiles.js'
import { startRun, verdictTable, type RunHandle } from './run/runner.js'
import { checkTools } from './system/exec.js'
import { removeStaleNamespaces } from './system/network.js'

const usage = `synod fault-injection suite (needs root, nft and iproute2; libfaketime for clock faults)

  --profile short|long   short: ~3 min, every fault kind once (CI); long: 30 min of faults (default short)
  --seed <n>             seed for the schedule and every random choice (default: from the time; printed)
  --engine <name>        consensus engine passed to synod start --consensus (default raft)
  --fault-seconds <n>    override the length of the faulty phase
  --results <dir>        results folder (default apps/faults/results/<timestamp>)
  --cleanup              only remove namespaces and processes left by an interrupted run`

async function main (): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      profile: { type: 'string', default: 'short' },
      seed: { type: 'string' },
      engine: { type: 'string', default: 'raft' },
      'fault-seconds': { type: 'string' },
      results: { type: 'string' },
      cleanup: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) { console.log(usage); return 0 }
  const { tools, problems, notes } = checkTools()
  if (problems.length > 0) {
    console.error(`cannot run the fault suite:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    return 2
  }
  if (values.cleanup) {
    const removed = removeStaleNamespaces('synodf')
    console.log(removed.length === 0 ? 'nothing to clean up' : `removed ${removed.join(', ')}`)
    return 0
  }
  for (const note of notes) console.warn(`note: ${note}`)
  const base = PROFILES[values.profile]
  if (base === undefined) { console.error(`unknown profile ${values.profile}; use ${Object.keys(PROFILES).join(' or ')}`); return 2 }
  const profile: Profile = values['fault-seconds'] === undefined ? base : { ...base, faultPhaseMs: Number(values['fault-seconds']) * 1000 }
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed)
  if (!Number.isInteger(seed)) { console.error('--seed must be an integer'); return 2 }
  const packageDir = fileURLToPath(new URL('..', import.meta.url))
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const resultsDir = values.results ?? join(packageDir, 'results', `${stamp}-${profile.name}-${seed}`)
  console.log(`fault suite: profile ${profile.name}, engine ${values.engine}, seed ${seed}\nresults: ${resultsDir}`)

  const started = Date.now()
  const handle: RunHandle = startRun({
    profile,
    seed,
    engine: values.engine,
    resultsDir,
    packageDir,
    nodeAppDir: realpathSync(join(packageDir, 'node_modules', '@synod', 'node')),
    tools,
    log: (line) => { console.log(`[faults] ${line}`) }
  })
  // However the run ends (a failure, Ctrl-C, a kill from CI) the namespaces and nodes go with it.
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: tearing down namespaces and node processes`)
    handle.cleanupSync()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', () => { handle.cleanupSync() })
  try {
    const result = await handle.result
    console.log(`\n${verdictTable(result.checks)}\n\n${result.pass ? 'PASS' : 'FAIL'} in ${Math.round((Date.now() - started) / 1000)} s (seed ${seed}); history, logs and summary in ${result.resultsDir}`)
    return result.pass ? 0 : 1
  } catch (error) {
    console.error(`fault run failed: ${(error as Error).stack ?? String(error)}\nresults so far in ${resultsDir}; reproduce with --seed ${seed}`)
    return 1
  } finally {
    handle.cleanupSync()
  }
}

process.exitCode = await main()
