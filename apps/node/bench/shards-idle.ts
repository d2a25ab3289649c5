// The idle cost of many shards: three shard hosts in one process on an in-memory network (or on
// transport-ws over loopback with --ws), 1,000 shards with three replicas each, so every node hosts
// 1,000 replicas. Once every shard has a leader, the run measures the process's CPU time and the
// traffic for a window, with quiescence on and, side by side in the same run, off (every group
// ticking and heartbeating every 100 ms, which is what a plain Raft group does).
//
//   pnpm exec tsx bench/shards-idle.ts [--shards 1000] [--seconds 10] [--ws] [--only on|off]
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { Transport } from '@synod/interfaces'
import { createMemoryNetwork } from '@synod/sim'
import { createWsTransport } from '@synod/transport-ws'
import { isMuxEnvelope, type MuxEnvelope } from '../src/sharding/group-mux.js'
import type { ShardMessage } from '../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardNode } from '../src/sharding/shard-host.js'
import { memoryShardStorage } from '../src/sharding/shard-storage.js'
import { systemClock, systemRandom } from '../src/system/clock.js'

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    ws: { type: 'boolean', default: false },
    only: { type: 'string', default: 'on,off' }
  }
})
const shardCount = Number(values.shards)
const seconds = Number(values.seconds)
const ids = ['n1', 'n2', 'n3']

interface Row {
  setup: string
  settleSeconds: number
  cpuPercentPerNode: number
  groupMessagesPerNodePerSecond: number
  envelopesPerNodePerSecond: number
  awakeReplicas: number
  quiescedReplicas: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function transports (): Promise<{ nodes: ShardNode[], make: (id: string) => Transport<MuxEnvelope<ShardMessage>> }> {
  if (!values.ws) {
    const network = createMemoryNetwork({ delivery: 'macrotask', clone: false })
    return { nodes: ids.map((id) => ({ id, address: `memory://${id}` })), make: (id) => network.endpoint(id) }
  }
  // Listeners need their ports before the node list exists: start them first.
  const made = new Map<string, Transport<MuxEnvelope<ShardMessage>> & { address: string | undefined }>()
  for (const id of ids) {
    const transport = createWsTransport<MuxEnvelope<ShardMessage>>({ nodeId: id, clusterId: 'shards-bench', secret: 'shards bench secret, 16+ bytes', isMessage: isMuxEnvelope })
    await transport.start()
    made.set(id, transport)
  }
  return { nodes: ids.map((id) => ({ id, address: made.get(id)?.address as string })), make: (id) => made.get(id)! }
}

async function measure (quiesce: boolean): Promise<Row> {
  const { nodes, make } = await transports()
  const hosts: ShardHost[] = ids.map((id) => createShardHost({ nodeId: id, nodes, shardCount, quiesce }, {
    transport: make(id), storage: memoryShardStorage(), clock: systemClock, random: systemRandom
  }))
  const startedAt = performance.now()
  await Promise.all(hosts.map(async (host) => { await host.start() }))
  // Settled: every shard has a leader and, with quiescence, every replica is quiet; 120 s at most.
  const settled = (): boolean => {
    let led = 0
    for (const host of hosts) for (const line of host.status()) if (line.role === 'leader') led++
    if (led < shardCount) return false
    return !quiesce || hosts.every((host) => host.stats().awake === 0)
  }
  while (!settled() && performance.now() - startedAt < 120_000) await sleep(250)
  const settleSeconds = (performance.now() - startedAt) / 1000
  await sleep(1000)
  const muxBefore = hosts.map((host) => host.stats().mux)
  const cpuBefore = process.cpuUsage()
  const wallBefore = performance.now()
  await sleep(seconds * 1000)
  const cpu = process.cpuUsage(cpuBefore)
  const wall = (performance.now() - wallBefore) / 1000
  const muxAfter = hosts.map((host) => host.stats().mux)
  const stats = hosts.map((host) => host.stats())
  await Promise.all(hosts.map(async (host) => { await host.stop() }))
  const sum = (pick: (i: number) => number): number => ids.reduce((total, _id, i) => total + pick(i), 0)
  return {
    setup: `${values.ws ? 'transport-ws loopback' : 'memory network'}, quiescence ${quiesce ? 'on' : 'off'}`,
    settleSeconds,
    cpuPercentPerNode: (cpu.user + cpu.system) / 1e6 / wall / ids.length * 100,
    groupMessagesPerNodePerSecond: sum((i) => muxAfter[i]!.messagesSent - muxBefore[i]!.messagesSent) / wall / ids.length,
    envelopesPerNodePerSecond: sum((i) => muxAfter[i]!.envelopesSent - muxBefore[i]!.envelopesSent) / wall / ids.length,
    awakeReplicas: stats.reduce((total, s) => total + s.awake, 0),
    quiescedReplicas: stats.reduce((total, s) => total + s.quiesced, 0)
  }
}

const rows: Row[] = []
for (const mode of values.only.split(',')) rows.push(await measure(mode === 'on'))

const load = loadavg().map((value) => value.toFixed(1)).join(' ')
console.log(`\nshards-idle: ${shardCount} shards x 3 replicas on 3 nodes in one process (${shardCount} replicas per node), ${seconds} s window, Node ${process.version}, ${cpus().length} cores, load average ${load}\n`)
console.log('| setup | settle (s) | CPU per node (% of one core) | group messages/s per node | envelopes/s per node | replicas awake / quiesced (all nodes) |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const row of rows) {
  console.log(`| ${row.setup} | ${row.settleSeconds.toFixed(1)} | ${row.cpuPercentPerNode.toFixed(2)}% | ${row.groupMessagesPerNodePerSecond.toFixed(0)} | ${row.envelopesPerNodePerSecond.toFixed(1)} | ${row.awakeReplicas} / ${row.quiescedReplicas} |`)
}
const on = rows.find((row) => row.setup.endsWith('on'))
const off = rows.find((row) => row.setup.endsWith('off'))
if (on !== undefined && off !== undefined) {
  const messages = on.groupMessagesPerNodePerSecond === 0 ? 'to none' : `${(off.groupMessagesPerNodePerSecond / on.groupMessagesPerNodePerSecond).toFixed(0)}x`
  console.log(`\nquiescence cuts idle CPU ${(off.cpuPercentPerNode / Math.max(on.cpuPercentPerNode, 1e-9)).toFixed(0)}x and group messages ${messages} (node heartbeats remain); target: under 5% of one core per node with quiescence on`)
}
process.exit(0)
