import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NodeHost, Topology } from '../topology.js'

/** A running (or stopped) node process. */
export interface NodeProcess {
  readonly host: NodeHost
  readonly running: boolean
  readonly paused: boolean
  readonly pid: number | undefined
  /** Whether this node runs under libfaketime (the clock victim). */
  readonly fakeClock: boolean
}

export interface ClusterOptions {
  readonly topology: Topology
  /** Where node data directories live. */
  readonly dataRoot: string
  /** Where node logs go, one `<id>.log` each. */
  readonly logDir: string
  /** The apps/node folder, run from source through tsx. */
  readonly nodeAppDir: string
  /** Consensus engine passed to `synod start --consensus`. @default 'raft' */
  readonly engine?: string | undefined
  /** Tick in milliseconds. @default 50 */
  readonly tickMs?: number | undefined
  /** Node log level. @default 'warn' */
  readonly logLevel?: string | undefined
  /** The libfaketime preload library and the node to run under it. */
  readonly faketime?: { readonly lib: string, readonly nodeId: string } | undefined
}

export interface Cluster {
  readonly nodes: readonly NodeProcess[]
  node(id: string): NodeProcess
  start(id: string): void
  /** `kill -9`, waiting for the exit. */
  kill(id: string): Promise<void>
  pause(id: string): void
  resume(id: string): void
  /**
   * Shifts the clock victim's clock: `jumpMs` forward now, and from now on it runs at `rate` times
   * real time. Both monotonic and wall clocks move (libfaketime fakes both).
   */
  skewClock(jumpMs: number, rate: number): void
  /** Stops skewing: the clock keeps its offset but runs at real speed again. */
  steadyClock(): void
  /** SIGCONT then SIGTERM every node, SIGKILL after a grace period. */
  stopAll(): Promise<void>
  /** Synchronous last resort from an exit handler. */
  killAllSync(): void
}

interface Member {
  host: NodeHost
  child: ChildProcess | undefined
  paused: boolean
  fakeClock: boolean
  startedAt: number
}

export function createCluster (options: ClusterOptions): Cluster {
  const { topology } = options
  const cli = join(options.nodeAppDir, 'src', 'cli.ts')
  const secretFile = join(options.dataRoot, 'secret')
  const timestampFile = join(options.dataRoot, 'faketime')
  mkdirSync(options.dataRoot, { recursive: true })
  mkdirSync(options.logDir, { recursive: true })
  writeFileSync(secretFile, 'synod-faults-cluster-secret-0123456789')
  writeFileSync(timestampFile, '+0 x1\n')
  const peers = topology.nodes.map((n) => `${n.id}=${n.ip}:${n.peerPort}`).join(',')
  const apiPeers = topology.nodes.map((n) => `${n.id}=http://${n.ip}:${n.apiPort}`).join(',')
  const members = new Map<string, Member>(topology.nodes.map((host) => [host.id, {
    host, child: undefined, paused: false, fakeClock: options.faketime?.nodeId === host.id, startedAt: 0
  }]))
  // libfaketime's clock is "offset + rate × (real time since the process started)"; tracking the
  // offset we mean to keep lets a rate change continue from the current fake time instead of jumping.
  let clockOffsetMs = 0
  let clockRate = 1
  let clockSince = Date.now()

  const member = (id: string): Member => {
    const found = members.get(id)
    if (found === undefined) throw new RangeError(`unknown node ${id}`)
    return found
  }
  const isRunning = (m: Member): boolean => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null
  const view = (m: Member): NodeProcess => ({
    host: m.host, running: isRunning(m), paused: m.paused, pid: m.child?.pid, fakeClock: m.fakeClock
  })

  const writeClock = (): void => {
    const victim = options.faketime === undefined ? undefined : members.get(options.faketime.nodeId)
    if (victim === undefined) return
    const sinceStart = Date.now() - victim.startedAt
    // fake = X + rate × sinceStart must equal real + offset right now
    const x = clockOffsetMs + sinceStart - clockRate * sinceStart
    writeFileSync(timestampFile, `${x >= 0 ? '+' : ''}${(x / 1000).toFixed(3)}s x${clockRate}\n`)
  }
  const settleClock = (): void => {
    const now = Date.now()
    clockOffsetMs += (clockRate - 1) * (now - clockSince)
    clockSince = now
  }

  function start (id: string): void {
    const m = member(id)
    if (isRunning(m)) return
    const log = createWriteStream(join(options.logDir, `${id}.log`), { flags: 'a' })
    log.write(`--- ${new Date().toISOString()} harness: starting ${id}\n`)
    const env: NodeJS.ProcessEnv = { ...process.env }
    if (m.fakeClock && options.faketime !== undefined) {
      settleClock()
      m.startedAt = Date.now()
      env.LD_PRELOAD = options.faketime.lib
      env.FAKETIME_TIMESTAMP_FILE = timestampFile
      // Re-read the timestamp file every second so the nemesis can change the clock while it runs.
      env.FAKETIME_CACHE_DURATION = '1'
      writeClock()
    }
    const argv = ['netns', 'exec', m.host.namespace, process.execPath, '--import', 'tsx', cli, 'start',
      '--id', id, '--listen', `${m.host.ip}:${m.host.peerPort}`, '--api', `${m.host.ip}:${m.host.apiPort}`,
      '--peers', peers, '--api-peers', apiPeers, '--data-dir', join(options.dataRoot, id), '--secret-file', secretFile,
      '--tick-ms', String(options.tickMs ?? 50), '--log-level', options.logLevel ?? 'warn', '--consensus', options.engine ?? 'raft']
    // `ip netns exec` execs the command, so the child's pid is the node's own pid and signals reach it.
    const child = spawn('ip', argv, { cwd: options.nodeAppDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(log, { end: false })
    child.stderr.pipe(log, { end: false })
    child.once('exit', (code, signal) => {
      log.write(`--- ${new Date().toISOString()} harness: ${id} exited (${signal ?? `code ${String(code)}`})\n`)
    })
    m.child = child
    m.paused = false
  }

  async function kill (id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = member(id)
    const child = m.child
    if (child === undefined || !isRunning(m)) { m.child = undefined; return }
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
    m.child = undefined
    m.paused = false
  }

  const signal = (id: string, sig: NodeJS.Signals): boolean => {
    const m = member(id)
    if (!isRunning(m)) return false
    m.child?.kill(sig)
    return true
  }

  return {
    get nodes () { return [...members.values()].map(view) },
    node: (id) => view(member(id)),
    start,
    kill: async (id) => { await kill(id, 'SIGKILL') },
    pause (id) { if (signal(id, 'SIGSTOP')) member(id).paused = true },
    resume (id) { signal(id, 'SIGCONT'); member(id).paused = false },
    skewClock (jumpMs, rate) {
      settleClock()
      clockOffsetMs += jumpMs
      clockRate = rate
      writeClock()
    },
    steadyClock () {
      settleClock()
      clockRate = 1
      writeClock()
    },
    async stopAll () {
      await Promise.all([...members.values()].map(async (m) => {
        if (!isRunning(m)) return
        m.child?.kill('SIGCONT')
        const timer = setTimeout(() => { m.child?.kill('SIGKILL') }, 5000)
        await kill(m.host.id, 'SIGTERM')
        clearTimeout(timer)
      }))
    },
    killAllSync () {
      for (const m of members.values()) {
        if (m.child?.pid === undefined || !isRunning(m)) continue
        try { process.kill(m.child.pid, 'SIGKILL') } catch { /* gone */ }
      }
    }
  }
}
