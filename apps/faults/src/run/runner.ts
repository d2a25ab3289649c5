import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { checkHistory, createKvModel, formatReport, parseHistory, type HistoryOp } from '@synod/lincheck'
import type { AdminRequest, AgentConfig, NodeStatus } from '../client/agent.js'
import { checkSet, type SetOutcome } from '../client/workloads.js'
import { checkLockRun, type LockCheck, type LockRun } from '../locks/check.js'
import { createCluster, type Cluster } from '../cluster/cluster.js'
import { readMembers, type AdminCall, type AdminReply } from '../nemesis/membership.js'
import { createNemesis, type InjectedFault } from '../nemesis/nemesis.js'
import { buildSchedule, CLOCK_FAULTS, MEMBERSHIP_FAULTS, type FaultKind } from '../nemesis/schedule.js'
import { createSeededRandom } from '../random.js'
import { availability, countLeadership, countOps, leaderChangesByFault, longestOutageMs, verdictTable, type CheckLine, type LeaderSample } from '../report/summary.js'
import type { Tools } from '../system/exec.js'
import { createTestNetwork, removeStaleNamespaces, type TestNetwork } from '../system/network.js'
import { createTopology } from '../topology.js'
import type { Profile } from './profiles.js'

export interface RunOptions {
  readonly profile: Profile
  readonly seed: number
  /** Consensus engine for `synod start --consensus`. @default 'raft' */
  readonly engine: string
  /** Fault kinds to schedule first (those an earlier engine's run did not get to). @default none */
  readonly preferKinds?: readonly FaultKind[] | undefined
  readonly resultsDir: string
  /**
   * How the lock workload reaches the lock service: `http`, the node's `/v1/locks/*` routes through
   * an HTTP stub per node; `ws`, `@synod/client`'s lock server over the WebSocket client API.
   * @default 'http'
   */
  readonly lockTransport?: 'http' | 'ws' | undefined
  /** The nodes' `--log-level`. @default 'info' */
  readonly nodeLogLevel?: string | undefined
  readonly packageDir: string
  readonly nodeAppDir: string
  readonly tools: Tools
  readonly log: (line: string) => void
}

export interface RunResult {
  readonly pass: boolean
  readonly checks: CheckLine[]
  readonly resultsDir: string
  /** The fault kinds this run scheduled. */
  readonly scheduledKinds: readonly FaultKind[]
}

/** Things to undo however the run ends; the CLI calls `cleanup` from its signal handlers too. */
export interface RunHandle {
  readonly result: Promise<RunResult>
  cleanupSync(): void
}

/** How long the cluster may take to serve again once every fault is healed. */
const RECOVERY_LIMIT_MS = 90_000

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

interface AgentChannel {
  child: ChildProcess
  send(cmd: string): void
  admin: AdminCall
  next(type: string, timeoutMs: number): Promise<Record<string, unknown>>
}

function startAgent (namespace: string, packageDir: string, configFile: string, logFile: string,
  onStatus: (at: number, nodes: Record<string, NodeStatus | null>, completed: number) => void, leaderHint: () => string | undefined): AgentChannel {
  const script = join(packageDir, 'src', 'client', 'agent.ts')
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', script, configFile],
    { cwd: packageDir, stdio: ['pipe', 'pipe', 'pipe'] })
  const waiters = new Map<string, Array<(message: Record<string, unknown>) => void>>()
  const errors: string[] = []
  const adminWaiters = new Map<number, (reply: AdminReply) => void>()
  let adminId = 0
  child.stderr.on('data', (chunk: Buffer) => { errors.push(chunk.toString()) })
  child.on('exit', () => { writeFileSync(logFile, errors.join('')) })
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: Record<string, unknown>
    try { message = JSON.parse(line) as Record<string, unknown> } catch { errors.push(line + '\n'); return }
    if (message.type === 'status') onStatus(message.at as number, message.nodes as Record<string, NodeStatus | null>, message.completed as number)
    if (message.type === 'admin') {
      const waiter = adminWaiters.get(message.id as number)
      adminWaiters.delete(message.id as number)
      waiter?.(message as unknown as AdminReply)
      return
    }
    const list = waiters.get(message.type as string)
    const waiter = list?.shift()
    waiter?.(message)
  })
  return {
    child,
    send: (cmd) => { child.stdin.write(JSON.stringify({ cmd }) + '\n') },
    admin: async (method, path, body, options) => await new Promise<AdminReply>((resolve) => {
      const id = ++adminId
      const timeoutMs = options?.timeoutMs ?? 5000
      const request: AdminRequest = { id, method, path, body, node: options?.node, leaderHint: leaderHint(), timeoutMs }
      // The load generator answers within timeoutMs; the extra margin covers a busy machine.
      const timer = setTimeout(() => { adminWaiters.delete(id); resolve({ outcome: 'unknown', error: 'load generator did not answer' }) }, timeoutMs + 5000)
      adminWaiters.set(id, (reply) => { clearTimeout(timer); resolve(reply) })
      child.stdin.write(JSON.stringify({ cmd: 'admin', request }) + '\n')
    }),
    next: async (type, timeoutMs) => await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`load generator sent no "${type}" within ${timeoutMs} ms${errors.length > 0 ? `: ${errors.join('').slice(-2000)}` : ''}`)) }, timeoutMs)
      const list = waiters.get(type) ?? []
      list.push((message) => { clearTimeout(timer); resolve(message) })
      waiters.set(type, list)
      child.once('exit', () => { clearTimeout(timer); reject(new Error(`load generator exited before "${type}": ${errors.join('').slice(-2000)}`)) })
    })
  }
}

/** Runs one profile end to end: hosts, nodes, workload, nemesis, healing, checks, results. */
export function startRun (options: RunOptions): RunHandle {
  const { profile, log } = options
  const topology = createTopology({ size: profile.nodes })
  let network: TestNetwork | undefined
  let cluster: Cluster | undefined
  let agent: AgentChannel | undefined
  let cleaned = false

  const cleanupSync = (): void => {
    if (cleaned) return
    cleaned = true
    try { agent?.child.kill('SIGKILL') } catch { /* gone */ }
    cluster?.killAllSync()
    // Also covers a failure half way through building the network.
    removeStaleNamespaces(topology.prefix)
  }

  const result = (async (): Promise<RunResult> => {
    const dir = options.resultsDir
    mkdirSync(join(dir, 'logs'), { recursive: true })
    const random = createSeededRandom(options.seed)
    const clockVictim = options.tools.faketimeLib === undefined ? undefined : random.pick(topology.nodes).id
    const kinds = profile.kinds.filter((kind) => clockVictim !== undefined || !CLOCK_FAULTS.has(kind))
    const schedule = buildSchedule({ seed: options.seed, durationMs: profile.faultPhaseMs, kinds, faultMs: profile.faultMs, gapMs: profile.gapMs, prefer: options.preferKinds })
    writeFileSync(join(dir, 'schedule.json'), JSON.stringify({ seed: options.seed, engine: options.engine, profile, clockVictim, schedule }, null, 1))

    log(`building ${profile.nodes} node namespaces, a client namespace and a bridge namespace (${topology.prefix}-*)`)
    network = await createTestNetwork(topology)
    cluster = createCluster({
      topology,
      dataRoot: join(dir, 'data'),
      logDir: join(dir, 'logs'),
      nodeAppDir: options.nodeAppDir,
      engine: options.engine,
      logLevel: options.nodeLogLevel ?? 'info',
      faketime: clockVictim === undefined || options.tools.faketimeLib === undefined ? undefined : { lib: options.tools.faketimeLib, nodeId: clockVictim }
    })
    for (const node of topology.nodes) cluster.start(node.id)
    log(`started ${topology.nodes.map((n) => `${n.id}@${n.ip}`).join(' ')}${clockVictim === undefined ? '' : `; ${clockVictim} runs under libfaketime`}`)

    let completed = 0
    let latest: { at: number, nodes: Record<string, NodeStatus | null> } = { at: 0, nodes: {} }
    const leaderTimeline: Array<{ at: number, leader: string | null, term: number }> = []
    const currentLeader = (): string | undefined => {
      let best: { id: string, term: number } | undefined
      for (const [id, status] of Object.entries(latest.nodes)) {
        if (status?.role === 'leader' && (best === undefined || status.term > best.term)) best = { id, term: status.term }
      }
      return best?.id
    }
    const agentConfig: AgentConfig = {
      nodes: topology.nodes.map((n) => ({ id: n.id, url: `http://${n.ip}:${n.apiPort}`, wsUrl: `ws://${n.ip}:${n.clientWsPort}` })),
      seed: options.seed,
      registerClients: profile.registerClients,
      keys: Array.from({ length: profile.keys }, (_, i) => `r${i}`),
      setClients: profile.setClients,
      thinkMs: profile.thinkMs,
      timeoutMs: 2500,
      statusEveryMs: 300,
      historyFile: join(dir, 'history.json'),
      setFile: join(dir, 'set.json'),
      lockWorkers: profile.lockWorkers,
      lockTtlMs: profile.lockTtlMs,
      lockPauseOneIn: profile.lockPauseOneIn,
      lockFile: join(dir, 'locks.json'),
      lockTransport: options.lockTransport ?? 'http'
    }
    writeFileSync(join(dir, 'agent-config.json'), JSON.stringify(agentConfig, null, 1))

    // Wait for a leader before the workload starts: the first election is not under test.
    const probe = startAgent(topology.clientNamespace, options.packageDir, join(dir, 'agent-config.json'), join(dir, 'agent.log'), (at, nodes, done) => {
      latest = { at, nodes }
      completed = done
      const leader = currentLeader() ?? null
      const term = leader === null ? 0 : (nodes[leader]?.term ?? 0)
      const last = leaderTimeline.at(-1)
      if (last?.leader !== leader || last.term !== term) leaderTimeline.push({ at, leader, term })
    }, () => currentLeader())
    agent = probe
    const ready = await probe.next('ready', 60_000)
    const origin = ready.originWallMs as number
    const elapsed = (): number => Date.now() - origin
    // The first election and the nodes' warm-up are not under test: the nemesis clock starts once
    // the workload has completed an operation.
    const warmBy = Date.now() + 60_000
    while ((currentLeader() === undefined || completed === 0) && Date.now() < warmBy) {
      await sleep(200)
      // A node that cannot start (an engine the node does not know, a bad flag) must not cost the
      // whole faulty phase: stop here with what the node said.
      if (cluster.nodes.every((node) => !node.running)) {
        const said = readFileSync(join(dir, 'logs', `${topology.nodes[0]?.id ?? 'n1'}.log`), 'utf8').trim().split('\n').slice(-5).join('\n')
        throw new Error(`every node exited while starting (engine ${options.engine}); the first node's log ends:\n${said}`)
      }
    }
    const nemesisOrigin = elapsed()
    log(completed === 0 ? 'no operation completed within 60 s; running the nemesis anyway' : `leader ${String(currentLeader())}, workload running; nemesis starts for ${Math.round(profile.faultPhaseMs / 1000)} s`)

    const nemesis = createNemesis({
      cluster, network, leader: currentLeader, elapsed, clockVictim, admin: probe.admin, commitIndex: (id) => latest.nodes[id]?.commitIndex
    })
    const faults: InjectedFault[] = []
    for (const step of schedule) {
      const wait = nemesisOrigin + step.atMs - elapsed()
      if (wait > 0) await sleep(wait)
      const { injected, heal } = await nemesis.inject(step)
      faults.push(...injected)
      log(`${(elapsed() / 1000).toFixed(1).padStart(6)} s  ${injected.map((f) => `${f.kind}: ${f.detail}`).join(' + ')}`)
      await sleep(step.durationMs)
      await heal()
      log(`${(elapsed() / 1000).toFixed(1).padStart(6)} s  healed`)
    }
    await nemesis.healAll()
    const rest = nemesisOrigin + profile.faultPhaseMs - elapsed()
    if (rest > 0) await sleep(rest)
    // Recovery: the cluster must elect a leader and complete operations again once every fault is
    // healed. Restarting nodes from source takes seconds on a loaded machine, so the bound is generous.
    const healedAt = elapsed()
    const completedAtHeal = completed
    const recoverBy = Date.now() + RECOVERY_LIMIT_MS
    while ((currentLeader() === undefined || completed <= completedAtHeal) && Date.now() < recoverBy) await sleep(200)
    const recovered = currentLeader() !== undefined && completed > completedAtHeal
    const recoveryMs = elapsed() - healedAt
    log(recovered ? `all faults healed; recovered in ${(recoveryMs / 1000).toFixed(1)} s; ${profile.recoveryMs / 1000} s more with the workload running` : `no recovery within ${RECOVERY_LIMIT_MS / 1000} s of healing`)
    await sleep(profile.recoveryMs)
    // After membership faults every node must be a voter again.
    const membershipRan = schedule.some((step) => step.kinds.some((kind) => MEMBERSHIP_FAULTS.has(kind)))
    const finalMembers = membershipRan
      ? await readMembers({ admin: probe.admin, commitIndex: () => undefined, sleep, now: Date.now }, 5000)
      : undefined
    const endMs = elapsed()
    probe.send('stop')
    const stopped = await probe.next('stopped', 30_000)
    log(`workload stopped after ${String(stopped.ops)} register operations; reading the set back`)
    probe.send('final-read')
    const final = await probe.next('final', 90_000)
    const leaderAtEnd = currentLeader()
    probe.send('exit')
    await new Promise((resolve) => { probe.child.once('exit', resolve) })
    await cluster.stopAll()
    network.teardown()
    network = undefined
    cleaned = true

    // Checks
    const history: HistoryOp[] = parseHistory(readFileSync(join(dir, 'history.json'), 'utf8'))
    const model = createKvModel()
    log(`checking ${history.length} operations for linearizability`)
    const check = checkHistory(history, { model, timeoutMs: profile.checkTimeoutMs })
    if (check.verdict !== 'linearizable') writeFileSync(join(dir, 'lincheck-report.txt'), formatReport(check, model))
    const counts = countOps(history)
    const windows = availability(history, faults, 1000, endMs)
    const outage = longestOutageMs(windows, 1000)
    const checks: CheckLine[] = []
    checks.push({ check: 'kv register linearizable', pass: check.verdict === 'linearizable', detail: `${check.verdict}; ${counts.all.ok} ok, ${counts.all.failed} failed, ${counts.all.indeterminate} unknown of ${counts.all.total}${check.failingKeys.length > 0 ? `; failing keys ${check.failingKeys.join(',')}` : ''}` })
    let setDetail: Record<string, unknown> = {}
    if (final.ok === true && existsSync(join(dir, 'set.json'))) {
      const set = JSON.parse(readFileSync(join(dir, 'set.json'), 'utf8')) as { outcomes: SetOutcome[], present: string[] }
      const merged: SetOutcome = { acknowledged: set.outcomes.flatMap((o) => o.acknowledged), uncertain: set.outcomes.flatMap((o) => o.uncertain), refused: set.outcomes.flatMap((o) => o.refused) }
      const result = checkSet(merged, new Set(set.present))
      setDetail = { acknowledged: merged.acknowledged.length, uncertain: merged.uncertain.length, refused: merged.refused.length, ...result }
      checks.push({ check: 'acknowledged adds kept', pass: result.lost.length === 0 && merged.acknowledged.length > 0, detail: `${merged.acknowledged.length} acknowledged, ${result.lost.length} lost${result.lost.length > 0 ? ` (${result.lost.slice(0, 5).join(', ')}…)` : ''}; ${result.uncertainPresent}/${merged.uncertain.length} unknown present` })
      checks.push({ check: 'no phantom or refused adds', pass: result.unexpected.length === 0, detail: `${result.unexpected.length} present that were refused or never sent${result.unexpected.length > 0 ? ` (${result.unexpected.slice(0, 5).join(', ')})` : ''}` })
    } else {
      checks.push({ check: 'acknowledged adds kept', pass: false, detail: `final read failed: ${String(final.error)}` })
    }
    let lockDetail: LockCheck | undefined
    if (profile.lockWorkers > 0) {
      if (existsSync(join(dir, 'locks.json'))) {
        const run = JSON.parse(readFileSync(join(dir, 'locks.json'), 'utf8')) as LockRun
        lockDetail = checkLockRun(run)
        checks.push(...lockChecks(run, lockDetail))
      } else {
        checks.push({ check: 'lock: no lost update', pass: false, detail: 'the load generator wrote no lock record' })
      }
    }
    if (membershipRan) {
      const voters = finalMembers?.members.filter((m) => m.role === 'voter').map((m) => m.id).sort() ?? []
      const expected = topology.nodes.map((n) => n.id).sort()
      checks.push({
        check: 'membership restored',
        pass: voters.join(',') === expected.join(',') && finalMembers?.members.length === expected.length,
        detail: finalMembers === undefined ? 'no leader answered GET /v1/members' : `${finalMembers.members.map((m) => `${m.id}:${m.role}`).join(' ')}; ${faults.filter((f) => MEMBERSHIP_FAULTS.has(f.kind)).length} changes`
      })
    }
    const ran = new Set(faults.map((f) => f.kind))
    const scheduled = new Set(schedule.flatMap((step) => step.kinds))
    const notRun = [...scheduled].filter((kind) => !ran.has(kind))
    checks.push({ check: 'every scheduled fault ran', pass: notRun.length === 0 && faults.length > 0, detail: `${faults.length} faults of ${ran.size} kinds${notRun.length > 0 ? `; not run: ${notRun.join(', ')}` : ''}${kinds.length > scheduled.size ? `; not scheduled in this run: ${kinds.filter((k) => !scheduled.has(k)).join(', ')}` : ''}` })
    checks.push({ check: 'recovered after healing', pass: recovered && leaderAtEnd !== undefined, detail: `${recovered ? `in ${(recoveryMs / 1000).toFixed(1)} s` : `not within ${RECOVERY_LIMIT_MS / 1000} s`}; leader at end: ${leaderAtEnd ?? 'none'}; longest outage ${outage / 1000} s` })
    const pass = checks.every((c) => c.pass)

    const samples: LeaderSample[] = leaderTimeline.map((l) => ({ atMs: l.at - origin, leader: l.leader, term: l.term }))
    const summary = {
      profile: profile.name,
      engine: options.engine,
      seed: options.seed,
      nodes: profile.nodes,
      clockVictim: clockVictim ?? null,
      durationMs: endMs,
      verdict: pass ? 'pass' : 'fail',
      checks,
      operations: counts,
      linearizability: { verdict: check.verdict, failingKeys: check.failingKeys },
      set: setDetail,
      locks: lockDetail ?? null,
      faults,
      availability: windows,
      longestOutageMs: outage,
      recoveryMs: recovered ? recoveryMs : null,
      leadership: countLeadership(samples),
      leaderChanges: samples
    }
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 1))
    writeFileSync(join(dir, 'summary.md'), renderMarkdown(summary, checks, windows))
    // Node data is only kept for a failed run, where it is evidence.
    if (pass) rmSync(join(dir, 'data'), { recursive: true, force: true })
    return { pass, checks: checks.map((c) => ({ ...c, engine: options.engine })), resultsDir: dir, scheduledKinds: [...scheduled] }
  })()
  return { result, cleanupSync }
}

/** The lock workload's three verdict lines. */
export function lockChecks (run: LockRun, result: LockCheck): CheckLine[] {
  const paused = run.grants.filter((g) => g.paused).length
  const failures = Object.entries(run.acquireFailures).map(([code, n]) => `${n} ${code}`).join(', ')
  const problems = [
    ...result.duplicateTokens.map((d) => `token ${d.token} granted to grants ${d.grants.join(',')}`),
    ...result.orderViolations, ...result.realTimeViolations
  ]
  const probe = run.staleProbe === undefined ? 'no probe (fewer than two tokens)' : `probe with token ${run.staleProbe.token} ${run.staleProbe.accepted ? 'ACCEPTED' : 'refused'}`
  return [
    {
      check: 'lock: no lost update',
      pass: result.lostUpdates === 0 && result.increments > 0,
      detail: `${result.increments} acknowledged increments, counter ${result.finalValue}; ${run.grants.length} grants over ${run.transport ?? 'http'} (${paused} paused past the TTL)${failures === '' ? '' : `, acquires failed: ${failures}`}`
    },
    {
      check: 'lock: tokens strictly increase',
      pass: problems.length === 0 && run.grants.length > 0,
      detail: problems.length === 0 ? `${run.grants.length} grants, tokens unique and increasing in real-time and write order` : `${problems.length} violations: ${problems.slice(0, 3).join('; ')}`
    },
    {
      check: 'lock: stale token rejected',
      pass: result.wrongDecisions === 0 && result.probeRejected !== false && (result.staleRejected.writes > 0 || result.probeRejected === true),
      detail: `${result.staleRejected.writes} stale writes refused (${result.staleRejected.pausedWrites} by paused holders), ${result.staleRejected.reads} stale reads; ${probe}${result.wrongDecisions > 0 ? `; ${result.wrongDecisions} wrong decisions on replay` : ''}`
    }
  ]
}

function renderMarkdown (summary: { profile: string, engine: string, seed: number, nodes: number, durationMs: number, verdict: string, faults: InjectedFault[], longestOutageMs: number, leaderChanges: LeaderSample[], leadership: ReturnType<typeof countLeadership>, operations: ReturnType<typeof countOps>, locks: LockCheck | null },
  checks: CheckLine[], windows: ReturnType<typeof availability>): string {
  const lines = [
    `# Fault run: profile ${summary.profile}, engine ${summary.engine}, seed ${summary.seed}`,
    '',
    `${summary.nodes} nodes, ${(summary.durationMs / 1000).toFixed(0)} s of workload, ${summary.faults.length} faults injected, ${summary.leadership.changes} leader changes seen (a new leader or term; ${summary.leadership.gaps} stretches with no leader visible), longest outage ${summary.longestOutageMs / 1000} s. Verdict: **${summary.verdict}**.`,
    '',
    '| check | verdict | detail |', '|---|---|---|',
    ...checks.map((c) => `| ${c.check} | ${c.pass ? 'pass' : 'FAIL'} | ${c.detail} |`),
    '',
    ...(summary.locks === null
      ? []
      : ['## Lock workload', '', '| accepted increments | final counter | lost updates | duplicate tokens | order violations | stale writes refused (by paused holders) | stale reads refused |', '|---|---|---|---|---|---|---|',
          `| ${summary.locks.increments} | ${summary.locks.finalValue} | ${summary.locks.lostUpdates} | ${summary.locks.duplicateTokens.length} | ${summary.locks.orderViolations.length + summary.locks.realTimeViolations.length} | ${summary.locks.staleRejected.writes} (${summary.locks.staleRejected.pausedWrites}) | ${summary.locks.staleRejected.reads} |`, '']),
    '## Operations', '', '| op | total | ok | failed | unknown |', '|---|---|---|---|---|',
    ...Object.entries(summary.operations.byOp).map(([op, c]) => `| ${op} | ${c.total} | ${c.ok} | ${c.failed} | ${c.indeterminate} |`),
    '',
    '## Faults by kind', '', '| fault | times |', '|---|---|',
    ...Object.entries(summary.faults.reduce<Record<string, number>>((acc, f) => { acc[f.kind] = (acc[f.kind] ?? 0) + 1; return acc }, {}))
      .sort(([a], [b]) => a.localeCompare(b)).map(([kind, times]) => `| ${kind} | ${times} |`),
    '',
    '## Leader changes by the latest fault event before them', '', '| event | changes |', '|---|---|',
    ...[...leaderChangesByFault(summary.leaderChanges, summary.faults)].map(([event, changes]) => `| ${event} | ${changes} |`),
    '',
    '## Faults', '', '| from (s) | to (s) | fault | detail |', '|---|---|---|---|',
    ...summary.faults.map((f) => `| ${(f.startMs / 1000).toFixed(1)} | ${((f.endMs ?? f.startMs) / 1000).toFixed(1)} | ${f.kind} | ${f.detail} |`),
    '',
    '## Availability (successful operations per 5 s)', '', '| from (s) | ok | not ok | faults |', '|---|---|---|---|'
  ]
  for (let i = 0; i < windows.length; i += 5) {
    const group = windows.slice(i, i + 5)
    const faults = [...new Set(group.flatMap((w) => w.faults))]
    lines.push(`| ${i} | ${group.reduce((s, w) => s + w.ok, 0)} | ${group.reduce((s, w) => s + w.notOk, 0)} | ${faults.join(', ')} |`)
  }
  return lines.join('\n') + '\n'
}

export { verdictTable }
