import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs'
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
  /** Whether its data was wiped, so it starts with `--join`. */
  readonly joins: boolean
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
  /** Starts the node; one whose data was wiped starts with `--join` (it is no longer a founding member). */
  start(id: string): void
  /** Deletes a stopped node's data directory: it comes back as a new, empty member. */
  wipe(id: string): void
  /** `kill -9`, waiting for the exit. */
  kill(id: string): Promise<void>
  pause(id: string): void
  resume(id: string): void
  /** Jumps the clock victim's clocks (wall and monotonic: libfaketime fakes both) `jumpMs` forward. */
  bumpClock(jumpMs: number): void
  /**
   * Makes the clock victim's clocks run `rate` (> 1) times fast until `steadyClock`, as small
   * forward steps every 250 ms (libfaketime picks them up within its one-second re-read).
   */
  driftClock(rate: number): void
  /** Stops drifting: the clock keeps its offset but runs at real speed again. */
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
  joins: boolean
}

export function createCluster (options: ClusterOptions): Cluster {
  const { topology } = options
  const cli = join(options.nodeAppDir, 'src', 'cli.ts')
  const secretFile = join(options.dataRoot, 'secret')
  const timestampFile = join(options.dataRoot, 'faketime')
  mkdirSync(options.dataRoot, { recursive: true })
  mkdirSync(options.logDir, { recursive: true })
  writeFileSync(secretFile, 'synod-faults-cluster-secret-0123456789')
  writeFileSync(timestampFile, '+0s\n')
  const peers = topology.nodes.map((n) => `${n.id}=${n.ip}:${n.peerPort}`).join(',')
  const apiPeers = topology.nodes.map((n) => `${n.id}=http://${n.ip}:${n.apiPort}`).join(',')
  const wsPeers = topology.nodes.map((n) => `${n.id}=ws://${n.ip}:${n.clientWsPort}`).join(',')
  const members = new Map<string, Member>(topology.nodes.map((host) => [host.id, {
    host, child: undefined, paused: false, fakeClock: options.faketime?.nodeId === host.id, joins: false
  }]))
  // The faked clock is "real time + offset". libfaketime's rate mode ("x2") measures from the
  // process start, so changing the rate of a running process makes its clock leap, backwards too;
  // drift is therefore made of forward steps of the offset, and clocks never run backwards.
  let clockOffsetMs = 0
  let drift: NodeJS.Timeout | undefined
  const member = (id: string): Member => {
    const found = members.get(id)
    if (found === undefined) throw new RangeError(`unknown node ${id}`)
    return found
  }
  const isRunning = (m: Member): boolean => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null
  const view = (m: Member): NodeProcess => ({
    host: m.host, running: isRunning(m), paused: m.paused, pid: m.child?.pid, fakeClock: m.fakeClock, joins: m.joins
  })

  const writeClock = (): void => { writeFileSync(timestampFile, `+${(clockOffsetMs / 1000).toFixed(3)}s\n`) }

  function start (id: string): void {
    const m = member(id)
    if (isRunning(m)) return
    const log = createWriteStream(join(options.logDir, `${id}.log`), { flags: 'a' })
    log.write(`--- ${new Date().toISOString()} harness: starting ${id}${m.joins ? ' with --join' : ''}\n`)
    const env: NodeJS.ProcessEnv = { ...process.env }
    if (m.fakeClock && options.faketime !== undefined) {
      env.LD_PRELOAD = options.faketime.lib
      env.FAKETIME_TIMESTAMP_FILE = timestampFile
      // Re-read the timestamp file every second so the nemesis can change the clock while it runs.
      env.FAKETIME_CACHE_DURATION = '1'
    }
    const argv = ['netns', 'exec', m.host.namespace, process.execPath, '--import', 'tsx', cli, 'start',
      '--id', id, '--listen', `${m.host.ip}:${m.host.peerPort}`, '--api', `${m.host.ip}:${m.host.apiPort}`,
      '--peers', peers, '--api-peers', apiPeers, '--client-ws', `${m.host.ip}:${m.host.clientWsPort}`, '--client-ws-peers', wsPeers, '--data-dir', join(options.dataRoot, id), '--secret-file', secretFile,
      '--tick-ms', String(options.tickMs ?? 50), '--log-level', options.logLevel ?? 'warn', '--consensus', options.engine ?? 'raft', ...(m.joins ? ['--join'] : [])]
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
    wipe (id) {
      const m = member(id)
      if (isRunning(m)) throw new Error(`cannot wipe ${id} while it runs`)
      rmSync(join(options.dataRoot, id), { recursive: true, force: true })
      m.joins = true
    },
    kill: async (id) => { await kill(id, 'SIGKILL') },
    pause (id) { if (signal(id, 'SIGSTOP')) member(id).paused = true },
    resume (id) { signal(id, 'SIGCONT'); member(id).paused = false },
    bumpClock (jumpMs) {
      clockOffsetMs += Math.max(0, jumpMs)
      writeClock()
    },
    driftClock (rate) {
      clearInterval(drift)
      const stepMs = 250
      drift = setInterval(() => { clockOffsetMs += (Math.max(1, rate) - 1) * stepMs; writeClock() }, stepMs)
    },
    steadyClock () {
      clearInterval(drift)
      drift = undefined
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
      clearInterval(drift)
      for (const m of members.values()) {
        if (m.child?.pid === undefined || !isRunning(m)) continue
        try { process.kill(m.child.pid, 'SIGKILL') } catch { /* gone */ }
      }
    }
  }
}
