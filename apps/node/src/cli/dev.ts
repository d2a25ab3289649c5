import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readOptions } from './args.js'

export const devHelp = `synod dev: start a local cluster on this machine

  --nodes <n>          number of nodes (default 3)
  --data-dir <dir>     where each node keeps its data (default ./.synod)
  --base-port <port>   HTTP API ports are base+1.., WebSocket client API base+21.., peer ports base+101.. (default 7000)
  --for <seconds>      stop on its own after this long (default: run until Ctrl-C)
  --consensus <name>   raft or paxos (default raft)
  --shards <n>         split the key space into n Raft groups over the nodes (default: one group)
  --log-level <level>  trace|debug|info|warn|error for the node logs (default info)

Each node is a separate process (synod start); its log goes to <data-dir>/<id>/node.log.
Ctrl-C stops the cluster cleanly; data stays, so the next start recovers it.`

interface Member { id: string, api: string, ws: string, peer: string, child?: ChildProcess }

export async function dev (argv: string[], print: (line: string) => void): Promise<number> {
  const { values } = readOptions(argv, {
    nodes: { type: 'string' },
    'data-dir': { type: 'string' },
    'base-port': { type: 'string' },
    for: { type: 'string' },
    consensus: { type: 'string' },
    shards: { type: 'string' },
    'log-level': { type: 'string' }
  })
  if (values.help === true) { print(devHelp); return 0 }
  const count = Number(values.nodes ?? 3)
  const basePort = Number(values['base-port'] ?? 7000)
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error('--nodes must be 1 to 9')
  const consensus = (values.consensus as string | undefined) ?? 'raft'
  if (consensus !== 'raft' && consensus !== 'paxos') throw new Error(`--consensus must be raft or paxos, got "${consensus}"`)
  const shards = values.shards === undefined ? undefined : Number(values.shards)
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 4096)) throw new Error('--shards must be 1 to 4096')
  if (shards !== undefined && consensus !== 'raft') throw new Error('--shards runs Raft groups only')
  const logLevel = (values['log-level'] as string | undefined) ?? 'info'
  const dataDir = resolve((values['data-dir'] as string | undefined) ?? '.synod')
  mkdirSync(dataDir, { recursive: true })
  const secretFile = join(dataDir, 'cluster.secret')
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 })

  const members: Member[] = Array.from({ length: count }, (_, i) => ({
    id: `n${i + 1}`,
    api: `127.0.0.1:${basePort + 1 + i}`,
    ws: `127.0.0.1:${basePort + 21 + i}`,
    peer: `127.0.0.1:${basePort + 101 + i}`
  }))
  const peers = members.map((m) => `${m.id}=${m.peer}`).join(',')
  const apiPeers = members.map((m) => `${m.id}=http://${m.api}`).join(',')
  const wsPeers = members.map((m) => `${m.id}=ws://${m.ws}`).join(',')
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url))

  let stopping = false
  for (const member of members) {
    const dir = join(dataDir, member.id)
    mkdirSync(dir, { recursive: true })
    const log = createWriteStream(join(dir, 'node.log'), { flags: 'a' })
    const args = [cli, 'start', '--id', member.id, '--listen', member.peer, '--api', member.api,
      '--peers', peers, '--api-peers', apiPeers, '--client-ws', member.ws, '--client-ws-peers', wsPeers,
      '--data-dir', dir, '--secret-file', secretFile, '--consensus', consensus, '--log-level', logLevel,
      ...(shards === undefined ? [] : ['--shards', String(shards)])]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    child.on('exit', (code, signal) => {
      if (stopping) return
      print(`node ${member.id} exited (${signal ?? `code ${code ?? 0}`}); the others keep serving while a majority is up`)
      print(`  restart it with: ${[process.execPath, ...args].join(' ')}`)
    })
    member.child = child
  }

  print(`Synod dev cluster: ${count} nodes on ${consensus}${shards === undefined ? '' : `, ${shards} shards`}, data in ${dataDir}`)
  for (const member of members) print(`  ${member.id}  http://${member.api}  ws://${member.ws}  peer ${member.peer}  pid ${member.child?.pid ?? '?'}  log ${join(dataDir, member.id, 'node.log')}`)
  const leader = await waitForLeader(members, 20_000)
  print(leader === undefined ? 'no leader yet: see the node logs' : `leader: ${leader}`)
  const first = `http://${members[0]?.api ?? ''}`
  print(`
Try it:
  curl -X PUT ${first}/v1/kv/hello -d world
  curl ${first}/v1/kv/hello
  curl ${first}/v1/status
  open ${first}/dashboard           # live cluster view; ${first}/metrics for Prometheus
  synod members list               # members, roles and the leader (synod members --help to change them)${shards === undefined ? '' : `
  synod shards                     # each shard's replicas and leader; replicas and leaders per node`}
  kill -9 <pid of the leader>      # the rest elect a new leader and keep serving
Ctrl-C stops the cluster.`)

  const seconds = values.for === undefined ? undefined : Number(values.for)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
    if (seconds !== undefined) setTimeout(resolve, seconds * 1000)
  })
  stopping = true
  print('stopping the cluster')
  await Promise.all(members.map(async (member) => {
    const child = member.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }))
  print('stopped')
  return 0
}

async function waitForLeader (members: Member[], timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const member of members) {
      try {
        const res = await fetch(`http://${member.api}/v1/status`, { signal: AbortSignal.timeout(1000) })
        const status = await res.json() as { role?: string, id?: string }
        if (status.role === 'leader') return status.id
      } catch {
        // not listening yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return undefined
}

/** The version printed by `synod --version`. */
export function version (): string {
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }
  return manifest.version
}
