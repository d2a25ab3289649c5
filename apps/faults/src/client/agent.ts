/**
 * The load generator, run as its own process inside the client namespace (the harness in the
 * root namespace has no route to the nodes). It talks to the harness over stdio in JSON lines:
 * it reports node status for leader targeting and the availability timeline, and obeys
 * `stop` (end the workloads, write the history), `final-read` (read the set back after healing)
 * and `exit`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createHistoryRecorder, type HistoryRecorder } from '@synod/lincheck'
import type { LockRun } from '../locks/check.js'
import { runLockWorkload } from '../locks/workload.js'
import { setKey, registerClient, setClient, type SetOutcome, type WorkloadContext } from './workloads.js'

export interface AgentConfig {
  /** Every node: its HTTP API and its WebSocket client API. */
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly url: string, readonly wsUrl: string }>
  readonly seed: number
  readonly registerClients: number
  readonly keys: readonly string[]
  readonly setClients: number
  readonly thinkMs: number
  readonly timeoutMs: number
  readonly statusEveryMs: number
  readonly historyFile: string
  readonly setFile: string
  /** Lock workload: clients competing for one lock (0: none). */
  readonly lockWorkers: number
  /** Their session TTL. */
  readonly lockTtlMs: number
  /** One critical section in this many pauses its client past the TTL. */
  readonly lockPauseOneIn: number
  readonly lockFile: string
  /** How lock clients reach the lock service (see `RunOptions.lockTransport`). */
  readonly lockTransport: 'http' | 'ws'
}

/** An administrative request from the harness, answered with a message `{ type: 'admin', id, outcome, status?, json? }`. */
export interface AdminRequest {
  readonly id: number
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: unknown
  /** Only this node; otherwise the leader, found by following hints. */
  readonly node?: string | undefined
  /** Where to start looking for the leader. */
  readonly leaderHint?: string | undefined
  readonly timeoutMs: number
}

export interface NodeStatus { role: string, term: number, leader: string | null, commitIndex: number }

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as AgentConfig
const emit = (message: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(message) + '\n') }
const urls = config.nodes.map((node) => node.url)

let running = true
let polling = true
const recorder = createHistoryRecorder()
const originWallMs = Date.now()
emit({ type: 'ready', originWallMs })
// Completed operations are counted as they happen: copying the history to count would cost
// O(history) on every status report of a long run.
let completed = 0
const counting: HistoryRecorder = {
  ...recorder,
  invoke (invocation) {
    const pending = recorder.invoke(invocation)
    return {
      index: pending.index,
      complete: (completion) => { completed += 1; pending.complete(completion) },
      fail: () => { pending.fail() },
      timeout: () => { pending.timeout() }
    }
  }
}
const ctx: WorkloadContext = { urls, recorder: counting, isRunning: () => running, timeoutMs: config.timeoutMs, thinkMs: config.thinkMs }
const outcomes: SetOutcome[] = []
const workers: Array<Promise<void>> = []
for (let i = 0; i < config.registerClients; i++) workers.push(registerClient(ctx, i + 1, config.keys, config.seed * 31 + i))
for (let i = 0; i < config.setClients; i++) {
  const outcome: SetOutcome = { acknowledged: [], uncertain: [], refused: [] }
  outcomes.push(outcome)
  workers.push(setClient(ctx, 100 + i, outcome))
}

const lockRun: Promise<LockRun> | undefined = config.lockWorkers > 0
  ? runLockWorkload({
    nodes: config.nodes,
    transport: config.lockTransport,
    workers: config.lockWorkers,
    seed: config.seed,
    ttlMs: config.lockTtlMs,
    pauseOneIn: config.lockPauseOneIn,
    acquireTimeoutMs: 15_000,
    thinkMs: config.thinkMs,
    now: () => Date.now() - originWallMs,
    isRunning: () => running
  })
  : undefined

async function pollStatus (): Promise<void> {
  while (polling) {
    const nodes: Record<string, NodeStatus | null> = {}
    await Promise.all(config.nodes.map(async (node) => {
      try {
        const res = await fetch(`${node.url}/v1/status`, { signal: AbortSignal.timeout(Math.max(200, config.statusEveryMs)) })
        const json = await res.json() as Record<string, unknown>
        nodes[node.id] = { role: String(json.role), term: Number(json.term), leader: (json.leader as string | null | undefined) ?? null, commitIndex: Number(json.commitIndex) }
      } catch {
        nodes[node.id] = null
      }
    }))
    emit({ type: 'status', at: Date.now(), nodes, completed })
    await new Promise((resolve) => setTimeout(resolve, config.statusEveryMs))
  }
}
const poller = pollStatus()

async function listPrefix (prefix: string): Promise<string[] | undefined> {
  for (const url of urls) {
    try {
      const res = await fetch(`${url}/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=10000`, { signal: AbortSignal.timeout(5000) })
      if (res.status !== 200) continue
      const json = await res.json() as { items: Array<{ key: string }> }
      return json.items.map((item) => item.key)
    } catch { /* try the next node */ }
  }
  return undefined
}

async function finalRead (): Promise<void> {
  const present: string[] = []
  const deadline = Date.now() + 60_000
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i] as SetOutcome
    const all = [...outcome.acknowledged, ...outcome.uncertain, ...outcome.refused]
    const chunks = new Set(all.map((key) => key.split('/').slice(0, 3).join('/') + '/'))
    if (all.length === 0) chunks.add(setKey(100 + i, 0).split('/').slice(0, 3).join('/') + '/')
    for (const chunk of chunks) {
      let keys: string[] | undefined
      while (keys === undefined && Date.now() < deadline) {
        keys = await listPrefix(chunk)
        if (keys === undefined) await new Promise((resolve) => setTimeout(resolve, 500))
      }
      if (keys === undefined) { emit({ type: 'final', ok: false, error: `could not list ${chunk} within 60 s` }); return }
      present.push(...keys)
    }
  }
  writeFileSync(config.setFile, JSON.stringify({ outcomes, present }, null, 1))
  emit({ type: 'final', ok: true })
}

/**
 * One administrative request for the harness (membership changes, reads of the configuration).
 * Without `node` it goes to the leader: it starts at the node the harness names as leader, or the
 * first, and follows ERR_NOT_LEADER hints and refusals round the nodes until `timeoutMs` is spent.
 */
async function admin (request: AdminRequest): Promise<Record<string, unknown>> {
  const deadline = Date.now() + request.timeoutMs
  const byId = new Map(config.nodes.map((node) => [node.id, node.url]))
  let next = request.node ?? request.leaderHint ?? config.nodes[0]?.id ?? 'n1'
  let tried = 0
  let last: Record<string, unknown> = { outcome: 'refused', error: 'no node tried' }
  while (Date.now() < deadline) {
    const url = byId.get(next)
    if (url === undefined) return { outcome: 'refused', error: `unknown node ${next}` }
    try {
      const res = await fetch(`${url}${request.path}`, {
        method: request.method,
        headers: { 'content-type': 'application/json' },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(Math.max(100, deadline - Date.now()))
      })
      const json = await res.json() as Record<string, unknown>
      const error = json.error as { code?: string, leaderHint?: string, indeterminate?: boolean } | undefined
      if (error === undefined) return { outcome: 'ok', status: res.status, node: next, json }
      last = { outcome: error.indeterminate === true || res.status >= 500 ? 'unknown' : 'refused', status: res.status, node: next, code: error.code, json }
      if (request.node !== undefined || last.outcome === 'unknown') return last
      if (error.code !== 'ERR_NOT_LEADER') return last
      next = error.leaderHint !== undefined && byId.has(error.leaderHint) && error.leaderHint !== next ? error.leaderHint : (config.nodes[++tried % config.nodes.length]?.id ?? next)
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause
      // A refused connection sent nothing; anything else may have reached the node.
      last = { outcome: cause?.code === 'ECONNREFUSED' ? 'refused' : 'unknown', node: next, error: cause?.code ?? (error as Error).name }
      if (request.node !== undefined || (last.outcome === 'unknown' && request.method !== 'GET')) return last
      next = config.nodes[++tried % config.nodes.length]?.id ?? next
    }
    if (tried % config.nodes.length === 0) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return last
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line) as { cmd: string, request?: AdminRequest }
  const command = message.cmd
  if (command === 'admin' && message.request !== undefined) {
    const request = message.request
    void admin(request).then((reply) => { emit({ type: 'admin', id: request.id, ...reply }) })
  } else if (command === 'stop') {
    running = false
    void Promise.all(workers).then(async () => {
      writeFileSync(config.historyFile, recorder.toJSON())
      const locks = await lockRun
      if (locks !== undefined) writeFileSync(config.lockFile, JSON.stringify(locks))
      emit({ type: 'stopped', ops: recorder.history().length, lockGrants: locks?.grants.length ?? 0 })
    })
  } else if (command === 'final-read') {
    void finalRead()
  } else if (command === 'exit') {
    polling = false
    void poller.then(() => process.exit(0))
  }
}).on('close', () => { process.exit(1) })
