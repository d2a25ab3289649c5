// Starts the two clusters under test as real processes on 127.0.0.1: three `synod start` nodes
// (from dist, Raft, file storage with fdatasync) and three etcd members (Debian's etcd-server).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from '../test/support/cluster.js'

const appDir = fileURLToPath(new URL('..', import.meta.url))
export const synodCli = join(appDir, 'dist', 'cli.js')

export interface ServerProcess {
  name: string
  child: ChildProcess
}

export interface Cluster {
  servers: ServerProcess[]
  stop: () => Promise<void>
}

export interface SynodCluster extends Cluster {
  ws: string[]
  api: string[]
}

export interface EtcdCluster extends Cluster {
  endpoints: string[]
  version: string
}

function launch (name: string, command: string, args: string[], logFile: string): ServerProcess {
  const log = createWriteStream(logFile, { flags: 'a' })
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  return { name, child }
}

async function stopAll (servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map(async ({ child }) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }))
}

async function poll<T> (what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    try {
      const value = await attempt()
      if (value !== undefined) return value
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`)
}

/**
 * Starts three `synod start` processes. With `cpuProfileDir`, each writes a V8 CPU profile there
 * when it exits (`node --cpu-prof`), to see where a node's time goes under a workload.
 */
export async function startSynod (root: string, tickMs: number, cpuProfileDir?: string, extraArgs: string[] = []): Promise<SynodCluster> {
  if (!existsSync(synodCli)) throw new Error(`${synodCli} is missing: run pnpm turbo run build --filter=@synod/node... first`)
  const ports = await freePorts(9)
  const ids = ['n1', 'n2', 'n3']
  const at = (i: number): number => ports[i] ?? 0
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${at(i)}`).join(',')
  const api = ids.map((_, i) => `http://127.0.0.1:${at(3 + i)}`)
  const ws = ids.map((_, i) => `ws://127.0.0.1:${at(6 + i)}`)
  const secretFile = join(root, 'secret')
  mkdirSync(root, { recursive: true })
  writeFileSync(secretFile, 'benchmark-cluster-secret-0123456789')
  const servers = ids.map((id, i) => {
    const dir = join(root, id)
    mkdirSync(dir, { recursive: true })
    const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-name', `${id}.cpuprofile`]
    return launch(`synod ${id}`, process.execPath, [...profile, synodCli, 'start', '--id', id, '--listen', `127.0.0.1:${at(i)}`,
      '--api', `127.0.0.1:${at(3 + i)}`, '--peers', peers, '--api-peers', ids.map((x, j) => `${x}=${api[j] ?? ''}`).join(','),
      '--client-ws', `127.0.0.1:${at(6 + i)}`, '--client-ws-peers', ids.map((x, j) => `${x}=${ws[j] ?? ''}`).join(','),
      '--data-dir', dir, '--secret-file', secretFile, '--tick-ms', String(tickMs), '--log-level', 'warn', ...extraArgs], join(root, `${id}.log`))
  })
  const cluster: SynodCluster = { servers, ws, api, stop: async () => { await stopAll(servers) } }
  try {
    await poll('the Synod cluster', 30_000, async () => {
      const statuses = await Promise.all(api.map(async (url) => (await fetch(`${url}/v1/status`)).json() as Promise<{ leader?: string }>))
      const leaders = new Set(statuses.map((s) => s.leader))
      return leaders.size === 1 && [...leaders][0] !== undefined ? true : undefined
    })
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

export function etcdVersion (): string | undefined {
  const result = spawnSync('etcd', ['--version'], { encoding: 'utf8' })
  if (result.status !== 0) return undefined
  return /etcd Version: (\S+)/.exec(result.stdout)?.[1]
}

export async function startEtcd (root: string): Promise<EtcdCluster> {
  const version = etcdVersion()
  if (version === undefined) throw new Error('etcd is not installed: apt-get install -y etcd-server etcd-client')
  const ports = await freePorts(6)
  const names = ['e1', 'e2', 'e3']
  const peerUrl = (i: number): string => `http://127.0.0.1:${ports[i] ?? 0}`
  const clientUrl = (i: number): string => `http://127.0.0.1:${ports[3 + i] ?? 0}`
  const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',')
  const servers = names.map((name, i) => {
    const dir = join(root, name)
    mkdirSync(dir, { recursive: true })
    // Defaults otherwise: heartbeat 100 ms, election 1000 ms, WAL fsync on.
    return launch(`etcd ${name}`, 'etcd', ['--name', name, '--data-dir', dir,
      '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
      '--listen-client-urls', clientUrl(i), '--advertise-client-urls', clientUrl(i),
      '--initial-cluster', initialCluster, '--initial-cluster-token', 'bench', '--initial-cluster-state', 'new',
      '--logger', 'zap', '--log-level', 'warn'], join(root, `${name}.log`))
  })
  const endpoints = names.map((_, i) => clientUrl(i))
  const cluster: EtcdCluster = { servers, endpoints, version, stop: async () => { await stopAll(servers) } }
  try {
    await poll('the etcd cluster', 30_000, async () => {
      const healthy = await Promise.all(endpoints.map(async (url) => ((await (await fetch(`${url}/health`)).json()) as { health?: string }).health === 'true'))
      return healthy.every(Boolean) ? true : undefined
    })
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** User and system CPU time of a process, in microseconds, from /proc/<pid>/stat. */
export function cpuSplit (pid: number | undefined): { user: number, system: number } {
  if (pid === undefined) return { user: Number.NaN, system: Number.NaN }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start at field 3; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const micros = 1_000_000 / clockTicksPerSecond
    return { user: Number(fields[11]) * micros, system: Number(fields[12]) * micros }
  } catch {
    return { user: Number.NaN, system: Number.NaN }
  }
}

/** utime + stime of a process, in microseconds. */
export function cpuMicros (pid: number | undefined): number {
  const { user, system } = cpuSplit(pid)
  return user + system
}
