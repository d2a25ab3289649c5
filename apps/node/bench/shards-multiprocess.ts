// Shards across processes: three node processes on transport-ws over loopback, so the nodes'
// work can spread over the machine's cores as it would over machines. Two measurements:
//
// - throughput: 1 vs 16 vs 64 shards; every process runs closed-loop clients that put 128-byte
//   values under 10,000 random keys through its own node (a follower forwards to the shard's
//   leader: at most one forward). With one shard, one process leads everything; with many, the
//   leaders spread over the three processes.
// - idle: 1,000 idle shards, the CPU time of each node process over a window, once quiesced.
//
//   pnpm exec tsx bench/shards-multiprocess.ts [--shards 1,16,64] [--clients 255] [--seconds 5] [--idle 1000] [--storage memory|file]
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createWsTransport } from '@synod/transport-ws'
import { isMuxEnvelope, type MuxEnvelope } from '../src/sharding/group-mux.js'
import type { ShardMessage } from '../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardNode } from '../src/sharding/shard-host.js'
import { fileShardStorage, memoryShardStorage } from '../src/sharding/shard-storage.js'
import { systemClock, systemRandom } from '../src/system/clock.js'

type ToChild =
  | { type: 'nodes', nodes: ShardNode[], shardCount: number, storage: string, dataDir: string }
  | { type: 'balance' }
  | { type: 'run', clients: number, warmupMs: number, seconds: number }
  | { type: 'idle', seconds: number }
  | { type: 'exit' }
type ToParent =
  | { type: 'address', address: string }
  | { type: 'status', led: number, preferredLed: number, awake: number }
  | { type: 'result', ops: number, cpuMicros: number, latencies: number[], envelopes: number, groupMessages: number }

const secret = 'shards multiprocess bench secret'

// ------------------------------------------------------------------ child: one node

async function child (id: string): Promise<void> {
  const send = (message: ToParent): void => { process.send?.(message) }
  const transport = createWsTransport<MuxEnvelope<ShardMessage>>({ nodeId: id, clusterId: 'shards-mp', secret, isMessage: isMuxEnvelope })
  await transport.start()
  send({ type: 'address', address: transport.address as string })
  let host: ShardHost | undefined
  const status = (): void => {
    if (host === undefined) return
    const lines = host.status()
    send({ type: 'status', led: lines.filter((l) => l.role === 'leader').length, preferredLed: lines.filter((l) => l.role === 'leader' && l.preferredLeader === id).length, awake: host.stats().awake })
  }
  const reporter = setInterval(status, 200)
  process.on('message', (message: ToChild) => {
    void (async () => {
      switch (message.type) {
        case 'nodes':
          host = createShardHost({ nodeId: id, nodes: message.nodes, shardCount: message.shardCount }, {
            transport,
            storage: message.storage === 'file' ? fileShardStorage({ dataDir: join(message.dataDir, id) }) : memoryShardStorage(),
            clock: systemClock,
            random: systemRandom
          })
          await host.start()
          break
        case 'balance':
          await host?.balanceLeaders({ maxTransfers: 16 }).catch(() => 0)
          break
        case 'run': send(await load(host as ShardHost, message.clients, message.warmupMs, message.seconds)); break
        case 'idle': {
          const mux = (host as ShardHost).stats().mux
          const cpu = process.cpuUsage()
          await new Promise((resolve) => setTimeout(resolve, message.seconds * 1000))
          const used = process.cpuUsage(cpu)
          const after = (host as ShardHost).stats().mux
          send({ type: 'result', ops: 0, cpuMicros: used.user + used.system, latencies: [], envelopes: after.envelopesSent - mux.envelopesSent, groupMessages: after.messagesSent - mux.messagesSent })
          break
        }
        case 'exit':
          clearInterval(reporter)
          await host?.stop()
          await transport.stop()
          process.exit(0)
      }
    })()
  })
}

async function load (host: ShardHost, clients: number, warmupMs: number, seconds: number): Promise<Extract<ToParent, { type: 'result' }>> {
  const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i.toString().padStart(12, '0')}`)
  const value = new Uint8Array(128).fill(7)
  let measuring = false
  let stopping = false
  let ops = 0
  const latencies: number[] = []
  let seed = process.pid
  const client = async (): Promise<void> => {
    while (!stopping) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const key = keys[seed % keys.length] as string
      const started = performance.now()
      try {
        await host.write({ op: 'put', key, value })
        if (measuring) {
          ops++
          if ((ops & 7) === 0) latencies.push(performance.now() - started)
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  }
  const running = Array.from({ length: clients }, async () => { await client() })
  await new Promise((resolve) => setTimeout(resolve, warmupMs))
  const mux = host.stats().mux
  measuring = true
  const cpu = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  measuring = false
  const used = process.cpuUsage(cpu)
  const after = host.stats().mux
  const measured = ops
  stopping = true
  await Promise.all(running)
  return { type: 'result', ops: measured, cpuMicros: used.user + used.system, latencies, envelopes: after.envelopesSent - mux.envelopesSent, groupMessages: after.messagesSent - mux.messagesSent }
}

// ------------------------------------------------------------------ parent

interface Node { id: string, process: ChildProcess, address: string, status: { led: number, preferredLed: number, awake: number } }

async function cluster (shardCount: number, storage: string, dataDir: string): Promise<Node[]> {
  const self = fileURLToPath(import.meta.url)
  const nodes: Node[] = []
  for (const id of ['n1', 'n2', 'n3']) {
    const proc = fork(self, ['--child', id], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const [first] = await once(proc, 'message') as [ToParent]
    if (first.type !== 'address') throw new Error('child did not report its address')
    const node: Node = { id, process: proc, address: first.address, status: { led: 0, preferredLed: 0, awake: 0 } }
    proc.on('message', (message: ToParent) => { if (message.type === 'status') node.status = message })
    nodes.push(node)
  }
  const list: ShardNode[] = nodes.map((node) => ({ id: node.id, address: node.address }))
  for (const node of nodes) node.process.send({ type: 'nodes', nodes: list, shardCount, storage, dataDir } satisfies ToChild)
  return nodes
}

async function waitFor (condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return true
}

async function result (node: Node): Promise<Extract<ToParent, { type: 'result' }>> {
  for (;;) {
    const [message] = await once(node.process, 'message') as [ToParent]
    if (message.type === 'result') return message
  }
}

async function shutdown (nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map(async (node) => {
    node.process.send({ type: 'exit' } satisfies ToChild)
    await once(node.process, 'exit')
  }))
}

async function parent (): Promise<void> {
  const { values } = parseArgs({
    options: {
      shards: { type: 'string', default: '1,16,64' },
      clients: { type: 'string', default: '255' },
      seconds: { type: 'string', default: '5' },
      idle: { type: 'string', default: '1000' },
      storage: { type: 'string', default: 'memory' }
    }
  })
  const seconds = Number(values.seconds)
  const clients = Number(values.clients)
  const dataDir = mkdtempSync(join(tmpdir(), 'synod-shards-mp-'))
  const lines: string[] = []
  for (const shardCount of values.shards.split(',').filter((s) => s !== '').map(Number)) {
    const nodes = await cluster(shardCount, values.storage, dataDir)
    await waitFor(() => nodes.reduce((sum, node) => sum + node.status.led, 0) === shardCount, 60_000)
    const balanced = await waitFor(() => {
      for (const node of nodes) node.process.send({ type: 'balance' } satisfies ToChild)
      return nodes.reduce((sum, node) => sum + node.status.preferredLed, 0) === shardCount
    }, 15_000)
    const leaders = nodes.map((node) => node.status.led).join('/')
    const results = nodes.map(async (node) => await result(node))
    for (const node of nodes) node.process.send({ type: 'run', clients: Math.round(clients / 3), warmupMs: 1000, seconds } satisfies ToChild)
    const done = await Promise.all(results)
    await shutdown(nodes)
    const ops = done.reduce((sum, r) => sum + r.ops, 0)
    const latencies = done.flatMap((r) => r.latencies).sort((a, b) => a - b)
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
    const cpu = done.map((r) => r.cpuMicros / 1e6 / seconds)
    lines.push(`| ${shardCount} | ${values.storage} | ${clients} | ${leaders}${balanced ? '' : ' (unbalanced)'} | ${(ops / seconds).toFixed(0)} | RATIO | ${at(0.5).toFixed(1)} | ${at(0.99).toFixed(1)} | ${cpu.map((c) => (c * 100).toFixed(0)).join(' / ')} | ${(done.reduce((s, r) => s + r.cpuMicros, 0) / Math.max(ops, 1)).toFixed(0)} |`)
  }
  const idleShards = Number(values.idle)
  let idleLine: string | undefined
  if (idleShards > 0) {
    const nodes = await cluster(idleShards, 'memory', dataDir)
    const quiet = await waitFor(() => nodes.every((node) => node.status.awake === 0) && nodes.reduce((sum, node) => sum + node.status.led, 0) === idleShards, 180_000)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const results = nodes.map(async (node) => await result(node))
    for (const node of nodes) node.process.send({ type: 'idle', seconds: 10 } satisfies ToChild)
    const done = await Promise.all(results)
    await shutdown(nodes)
    idleLine = `| ${idleShards} idle shards, quiescence on${quiet ? '' : ' (not all quiet)'} | ${done.map((r) => (r.cpuMicros / 1e6 / 10 * 100).toFixed(2)).join('% / ')}% | ${done.map((r) => (r.envelopes / 10).toFixed(1)).join(' / ')} | ${done.map((r) => (r.groupMessages / 10).toFixed(0)).join(' / ')} |`
  }
  rmSync(dataDir, { recursive: true, force: true })

  console.log(`\nshards-multiprocess: 3 node processes on transport-ws over 127.0.0.1, ${seconds} s per row, Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`)
  console.log('| shards | storage | clients (all processes) | leaders n1/n2/n3 | puts/s | vs 1 shard | p50 ms | p99 ms | CPU per process (% of a core) | CPU µs per put (all processes) |')
  console.log('|---:|---|---:|---|---:|---:|---:|---:|---|---:|')
  const base = lines[0] === undefined ? NaN : Number(lines[0].split('|')[5])
  for (const line of lines) console.log(line.replace('RATIO', `${(Number(line.split('|')[5]) / base).toFixed(2)}x`))
  if (idleLine !== undefined) {
    console.log('\n| idle | CPU per node process (% of one core) | envelopes/s sent per node | group messages/s per node |')
    console.log('|---|---|---|---|')
    console.log(idleLine)
  }
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) await child(process.argv[childAt + 1] as string)
else {
  await parent()
  process.exit(0)
}
