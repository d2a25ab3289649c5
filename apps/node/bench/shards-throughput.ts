// Write throughput of 1 vs 16 vs 64 shards on 3 nodes, all in one process on an in-memory
// network, with in-memory logs or file logs (one per shard, fdatasync on every append; hard state
// in one file per node, or with `file-per-shard-hard-state` one file per shard), or `shared-journal`:
// the write path of one shared log per node (bench/shards-journal.ts, benchmark-only). Closed-loop
// clients put 128-byte values under 10,000 keys; each client sends a write straight to the leader
// of the key's shard (as a client caching the shard map would). Shard leaders are first moved to
// their preferred nodes, so leadership is spread over the three nodes.
//
//   pnpm exec tsx bench/shards-throughput.ts [--shards 1,16,64] [--clients 256] [--seconds 5] [--storage memory,file,file-per-shard-hard-state,shared-journal]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createMemoryNetwork } from '@synod/sim'
import type { MuxEnvelope } from '../src/sharding/group-mux.js'
import type { ShardMessage } from '../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardNode } from '../src/sharding/shard-host.js'
import { fileShardStorage, memoryShardStorage, type ShardStorageFactory } from '../src/sharding/shard-storage.js'
import { systemClock, systemRandom } from '../src/system/clock.js'
import { sharedJournalStorage } from './shards-journal.js'

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '1,16,64' },
    clients: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '5' },
    storage: { type: 'string', default: 'memory,file,shared-journal' }
  }
})
const seconds = Number(values.seconds)
const ids = ['n1', 'n2', 'n3']
const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i.toString().padStart(12, '0')}`)
const value = new Uint8Array(128).fill(7)

interface Row { storage: string, shards: number, clients: number, opsPerSecond: number, p50: number, p99: number, cpuMicrosPerOp: number, leadersPerNode: string }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function leaderHost (hosts: ShardHost[], shard: number): ShardHost | undefined {
  return hosts.find((host) => host.replica(shard)?.raft.isLeader() === true)
}

async function run (storage: string, shardCount: number, clients: number): Promise<Row> {
  const network = createMemoryNetwork({ delivery: 'macrotask', clone: false })
  const nodes: ShardNode[] = ids.map((id) => ({ id, address: `memory://${id}` }))
  const root = storage === 'memory' ? undefined : mkdtempSync(join(tmpdir(), 'synod-shards-'))
  const storageOf = (id: string): ShardStorageFactory => {
    if (root === undefined) return memoryShardStorage()
    if (storage === 'shared-journal') {
      mkdirSync(join(root, id), { recursive: true })
      return sharedJournalStorage(join(root, id)).factory
    }
    return fileShardStorage({ dataDir: join(root, id), sharedHardState: storage !== 'file-per-shard-hard-state' })
  }
  const hosts = ids.map((id) => createShardHost({ nodeId: id, nodes, shardCount }, {
    transport: network.endpoint<MuxEnvelope<ShardMessage>>(id),
    storage: storageOf(id),
    clock: systemClock,
    random: systemRandom
  }))
  await Promise.all(hosts.map(async (host) => { await host.start() }))
  const deadline = performance.now() + 60_000
  while (performance.now() < deadline) {
    let led = 0
    for (let shard = 0; shard < shardCount; shard++) if (leaderHost(hosts, shard) !== undefined) led++
    if (led === shardCount) break
    await sleep(100)
  }
  // Spread leadership as the placement prefers (best effort, 10 s at most).
  const placement = hosts[0]!.placement()
  const balanced = (): boolean => placement.every((p) => leaderHost(hosts, p.shard)?.nodeId === p.preferredLeader)
  const balanceUntil = performance.now() + 10_000
  while (!balanced() && performance.now() < balanceUntil) {
    await Promise.all(hosts.map(async (host) => await host.balanceLeaders({ maxTransfers: 16 }).catch(() => 0)))
    await sleep(50)
  }
  const perNode = ids.map((id) => placement.filter((p) => leaderHost(hosts, p.shard)?.nodeId === id).length).join('/')

  const leaders = new Map<number, ShardHost>()
  let measuring = false
  let stopping = false
  let ops = 0
  const latencies: number[] = []
  let seed = 12345
  const nextKey = (): string => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return keys[seed % keys.length]!
  }
  const client = async (): Promise<void> => {
    while (!stopping) {
      const key = nextKey()
      const shard = hosts[0]!.shardOf(key)
      let host = leaders.get(shard)
      if (host === undefined) {
        host = leaderHost(hosts, shard) ?? hosts[0]!
        leaders.set(shard, host)
      }
      const started = performance.now()
      try {
        await host.write({ op: 'put', key, value })
        if (measuring) {
          ops++
          if ((ops & 7) === 0) latencies.push(performance.now() - started)
        }
      } catch {
        leaders.delete(shard)
      }
    }
  }
  const running = Array.from({ length: clients }, async () => { await client() })
  await sleep(1000)
  measuring = true
  const cpuBefore = process.cpuUsage()
  const wallBefore = performance.now()
  await sleep(seconds * 1000)
  measuring = false
  const cpu = process.cpuUsage(cpuBefore)
  const wall = (performance.now() - wallBefore) / 1000
  const measured = ops
  stopping = true
  await Promise.all(running)
  await Promise.all(hosts.map(async (host) => { await host.stop() }))
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return {
    storage,
    shards: shardCount,
    clients,
    opsPerSecond: measured / wall,
    p50: at(0.5),
    p99: at(0.99),
    cpuMicrosPerOp: (cpu.user + cpu.system) / Math.max(measured, 1),
    leadersPerNode: perNode
  }
}

const rows: Row[] = []
for (const storage of values.storage.split(',')) {
  for (const clients of values.clients.split(',').map(Number)) {
    for (const shards of values.shards.split(',').map(Number)) rows.push(await run(storage, shards, clients))
  }
}

console.log(`\nshards-throughput: 3 nodes in one process, memory network, puts of 128-byte values over 10,000 keys, ${seconds} s per row, Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`)
console.log('| storage | shards | clients | leaders n1/n2/n3 | puts/s | vs 1 shard | p50 ms | p99 ms | process CPU µs per put |')
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|')
for (const row of rows) {
  const base = rows.find((other) => other.storage === row.storage && other.clients === row.clients && other.shards === 1)
  const ratio = base === undefined ? '' : `${(row.opsPerSecond / base.opsPerSecond).toFixed(2)}x`
  console.log(`| ${row.storage} | ${row.shards} | ${row.clients} | ${row.leadersPerNode} | ${row.opsPerSecond.toFixed(0)} | ${ratio} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.cpuMicrosPerOp.toFixed(0)} |`)
}
process.exit(0)
