/**
 * `test:faults`: runs the fault-injection suite. Needs root.
 *
 *   tsx src/cli.ts --profile short|long [--seed N] [--engine raft|paxos|both] [--fault-seconds N] [--results DIR]
 */
import { realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CLOCK_FAULTS, FAULT_KINDS, type FaultKind } from './nemesis/schedule.js'
import { PROFILES, type Profile } from './run/profiles.js'
import { startRun, verdictTable, type RunHandle } from './run/runner.js'
import type { CheckLine } from './report/summary.js'
import { checkTools } from './system/exec.js'
import { removeStaleNamespaces } from './system/network.js'

const usage = `synod fault-injection suite (needs root, nft and iproute2; libfaketime for clock faults)

  --profile short|long   short: ~3 min, every fault kind once (CI); long: 30 min of faults (default short)
  --seed <n>             seed for the schedule and every random choice (default: from the time; printed)
  --engine raft|paxos|both
                         consensus engine(s) (synod start --consensus); both: one run each, one after
                         the other, the second scheduling first the fault kinds the first left out
                         (default both)
  --fault-seconds <n>    override the length of each engine's faulty phase
  --kinds <a,b,..>       only these fault kinds (to reproduce or study one)
  --node-log-level <l>   the nodes' --log-level (default info)
  --lock-transport http|ws|alternate
                         how lock clients reach the lock service: the node's HTTP lock routes, or
                         @synod/client's lock server over the WebSocket API; alternate: http for
                         the first engine, ws for the second (default alternate)
  --results <dir>        results folder (default apps/faults/results/<timestamp>)
  --cleanup              only remove namespaces and processes left by an interrupted run`

async function main (): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      profile: { type: 'string', default: 'short' },
      seed: { type: 'string' },
      engine: { type: 'string', default: 'both' },
      'fault-seconds': { type: 'string' },
      kinds: { type: 'string' },
      'node-log-level': { type: 'string' },
      'lock-transport': { type: 'string', default: 'alternate' },
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
  let profile: Profile = values['fault-seconds'] === undefined ? base : { ...base, faultPhaseMs: Number(values['fault-seconds']) * 1000 }
  if (values.kinds !== undefined) {
    const kinds = values.kinds.split(',').map((kind) => kind.trim())
    const unknown = kinds.filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind))
    if (unknown.length > 0) { console.error(`unknown fault kinds ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`); return 2 }
    profile = { ...profile, kinds: kinds as FaultKind[] }
  }
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed)
  if (!Number.isInteger(seed)) { console.error('--seed must be an integer'); return 2 }
  const engines = values.engine === 'both' ? ['raft', 'paxos'] : [values.engine]
  if (engines.some((engine) => engine !== 'raft' && engine !== 'paxos')) { console.error('--engine is raft, paxos or both'); return 2 }
  const lockTransport = values['lock-transport']
  if (lockTransport !== 'http' && lockTransport !== 'ws' && lockTransport !== 'alternate') { console.error('--lock-transport is http, ws or alternate'); return 2 }
  const packageDir = fileURLToPath(new URL('..', import.meta.url))
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const resultsRoot = values.results ?? join(packageDir, 'results', `${stamp}-${profile.name}-${seed}`)
  console.log(`fault suite: profile ${profile.name}, engine ${engines.join(' then ')}, seed ${seed}\nresults: ${resultsRoot}`)

  const started = Date.now()
  let handle: RunHandle | undefined
  // However the run ends (a failure, Ctrl-C, a kill from CI) the namespaces and nodes go with it.
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: tearing down namespaces and node processes`)
    handle?.cleanupSync()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', () => { handle?.cleanupSync() })
  const checks: CheckLine[] = []
  const scheduled = new Set<FaultKind>()
  for (const [index, engine] of engines.entries()) {
    const resultsDir = engines.length === 1 ? resultsRoot : join(resultsRoot, engine)
    console.log(`\n== ${engine} (results in ${resultsDir})`)
    handle = startRun({
      profile,
      seed,
      engine,
      nodeLogLevel: values['node-log-level'],
      lockTransport: lockTransport === 'alternate' ? (index % 2 === 0 ? 'http' : 'ws') : lockTransport,
      preferKinds: profile.kinds.filter((kind) => !scheduled.has(kind)),
      resultsDir,
      packageDir,
      nodeAppDir: realpathSync(join(packageDir, 'node_modules', '@synod', 'node')),
      tools,
      log: (line) => { console.log(`[faults ${engine}] ${line}`) }
    })
    try {
      const result = await handle.result
      checks.push(...result.checks)
      for (const kind of result.scheduledKinds) scheduled.add(kind)
    } catch (error) {
      console.error(`fault run (${engine}) failed: ${(error as Error).stack ?? String(error)}\nresults so far in ${resultsDir}; reproduce with --seed ${seed} --engine ${engine}`)
      checks.push({ engine, check: 'run completed', pass: false, detail: (error as Error).message.split('\n')[0] ?? 'error' })
    } finally {
      handle.cleanupSync()
    }
  }
  if (engines.length > 1) {
    // A short run per engine cannot fit every kind; between them they must.
    const missing = profile.kinds.filter((kind) => !scheduled.has(kind) && (tools.faketimeLib !== undefined || !CLOCK_FAULTS.has(kind)))
    checks.push({ engine: engines.join('+'), check: 'every fault kind scheduled', pass: missing.length === 0, detail: missing.length === 0 ? `${scheduled.size} kinds across ${engines.join(' and ')}` : `never scheduled: ${missing.join(', ')}` })
  }
  const pass = checks.every((c) => c.pass)
  console.log(`\n${verdictTable(checks)}\n\n${pass ? 'PASS' : 'FAIL'} in ${Math.round((Date.now() - started) / 1000)} s (seed ${seed}); history, logs and summary in ${resultsRoot}`)
  return pass ? 0 : 1
}

process.exitCode = await main()
