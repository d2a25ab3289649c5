import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const appDir = fileURLToPath(new URL('../..', import.meta.url))
const cliSource = join(appDir, 'src', 'cli.ts')

export interface ClusterMember {
  id: string
  api: string
  peer: string
  dir: string
  /** `host:port` of its WebSocket client API, when the cluster was made with `clientWs`. */
  ws?: string
  /** Started with `--join` (added at runtime) rather than as a founding member. */
  joined?: boolean
  process?: ChildProcess | undefined
}

export interface ProcessClusterOptions {
  /** `synod start --consensus`. @default 'raft' */
  consensus?: 'raft' | 'paxos'
  /** More `synod start` flags for every node. */
  args?: string[]
  /** Also serve the WebSocket client API (`--client-ws`) on a port of each founding member. @default false */
  clientWs?: boolean
}

export interface ProcessCluster {
  members: ClusterMember[]
  start(member: ClusterMember): void
  /**
   * Starts a new node with `--join` (pointed at the current members' peer addresses) and adds it
   * to `members`; it serves once a member has added it with `POST /v1/members`.
   */
  spawnJoiner(id: string): Promise<ClusterMember>
  kill(member: ClusterMember, signal?: NodeJS.Signals): Promise<void>
  stopAll(): Promise<void>
}

/** Finds free loopback ports by binding port 0. */
export async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return server
  }))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map(async (server) => { server.close(); await once(server, 'close') }))
  return ports
}

/** A cluster of real `synod start` processes on loopback, run from source through tsx. */
export async function createProcessCluster (root: string, size: number, tickMs = 50, options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
  // One call for every port: ports asked for in separate calls could come back the same.
  const ports = await freePorts(size * (options.clientWs === true ? 3 : 2))
  const members: ClusterMember[] = Array.from({ length: size }, (_, i) => ({
    id: `n${i + 1}`,
    api: `127.0.0.1:${ports[i] ?? 0}`,
    peer: `127.0.0.1:${ports[size + i] ?? 0}`,
    dir: join(root, `n${i + 1}`)
  }))
  const secretFile = join(root, 'secret')
  mkdirSync(root, { recursive: true })
  writeFileSync(secretFile, 'test-cluster-secret-0123456789')
  const peers = members.map((m) => `${m.id}=${m.peer}`).join(',')
  const apiPeers = members.map((m) => `${m.id}=http://${m.api}`).join(',')
  if (options.clientWs === true) {
    for (const [i, member] of members.entries()) member.ws = `127.0.0.1:${ports[2 * size + i] ?? 0}`
  }
  const wsPeers = members.map((m) => `${m.id}=ws://${m.ws ?? ''}`).join(',')

  const extra = [...(options.consensus === undefined ? [] : ['--consensus', options.consensus]), ...(options.args ?? [])]

  function start (member: ClusterMember): void {
    mkdirSync(member.dir, { recursive: true })
    const log = createWriteStream(join(member.dir, 'node.log'), { flags: 'a' })
    // A joined node is told the founders' addresses to reach; it learns the rest from the log.
    const membership = member.joined === true ? ['--join', '--peers', peers] : ['--peers', peers, '--api-peers', apiPeers]
    const clientWs = member.ws === undefined ? [] : ['--client-ws', member.ws, '--client-ws-peers', wsPeers]
    const child = spawn(process.execPath, ['--import', 'tsx', cliSource, 'start', '--id', member.id, '--listen', member.peer,
      '--api', member.api, ...membership, ...clientWs, '--data-dir', member.dir, '--secret-file', secretFile,
      '--tick-ms', String(tickMs), '--log-level', 'warn', ...extra], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(log)
    child.stderr.pipe(log)
    member.process = child
  }

  async function kill (member: ClusterMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = member.process
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
    member.process = undefined
  }

  async function spawnJoiner (id: string): Promise<ClusterMember> {
    const [api, peer, ws] = await freePorts(3)
    const member: ClusterMember = { id, api: `127.0.0.1:${api ?? 0}`, peer: `127.0.0.1:${peer ?? 0}`, dir: join(root, id), joined: true }
    if (options.clientWs === true) member.ws = `127.0.0.1:${ws ?? 0}`
    members.push(member)
    start(member)
    return member
  }

  for (const member of members) start(member)
  return {
    members,
    start,
    spawnJoiner,
    kill,
    stopAll: async () => { await Promise.all(members.map(async (member) => { await kill(member, 'SIGTERM') })) }
  }
}

/** The member that says it leads, if any answers. */
export async function findLeader (members: ClusterMember[]): Promise<ClusterMember | undefined> {
  for (const member of members) {
    if (member.process === undefined) continue
    try {
      const res = await fetch(`http://${member.api}/v1/status`, { signal: AbortSignal.timeout(500) })
      const status = await res.json() as { role?: string }
      if (status.role === 'leader') return member
    } catch {
      // down or still starting
    }
  }
  return undefined
}

export async function waitForLeader (members: ClusterMember[], timeoutMs = 30_000): Promise<ClusterMember> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const leader = await findLeader(members)
    if (leader !== undefined) return leader
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('no leader within the timeout')
}
