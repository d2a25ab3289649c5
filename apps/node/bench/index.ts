// `pnpm bench node` (the kv benchmark): a 3-node Synod cluster and a 3-member etcd cluster on
// 127.0.0.1, driven by the same closed-loop generator in one run. Options:
//   --seconds <s>   measured seconds per cell (default 4; warm-up 1 s more)
//   --only <list>   comma-separated workloads: put,get,lock-1,lock-100 (default all)
//   --clients <list> comma-separated concurrency for put/get (default 1,16,64,256)
//   --out <dir>     where kv.json and kv.svg go (default docs/benchmarks of the repository)
//   --no-write      print the table only
//   --cpu-prof <dir> write a V8 CPU profile of each Synod node there (n1..n3.cpuprofile) at the end
//   --shards <list>  shard counts of the sharding rows (workload `shards`; default 1,16,64): puts on a
//                    3-node cluster started with --shards n, at --shard-clients (default 64,256)
//   --idle-shards <n> shards per node of the idle row (workload `idle-shards`; default 1000)
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { cpus, loadavg, tmpdir } from 'node:os'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { cpuMicros, cpuSplit, startEtcd, startSynod, type Cluster, type EtcdCluster, type SynodCluster } from './clusters.js'
import type { GeneratorMessage, RunRequest, RunResult, System, Workload } from './protocol.js'
import { markdownTable, svgChart, type Row, type Side } from './report.js'
import { measureIdleShards, shardRows, shardTable, type IdleShards, type ShardRow } from './shard-rows.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    only: { type: 'string', default: 'put,get,lock-1,lock-100,shards,idle-shards' },
    shards: { type: 'string', default: '1,16,64' },
    'shard-clients': { type: 'string', default: '64,256' },
    'idle-shards': { type: 'string', default: '1000' },
    clients: { type: 'string', default: '1,16,64,256' },
    out: { type: 'string', default: fileURLToPath(new URL('../../../docs/benchmarks', import.meta.url)) },
    'tick-ms': { type: 'string', default: '100' },
    'no-write': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' }
  },
  allowPositionals: true
})
const seconds = Number(values.seconds)
const tickMs = Number(values['tick-ms'])
const warmupMs = 1000
const only = new Set(values.only.split(','))
const clientCounts = values.clients.split(',').map(Number)

const root = mkdtempSync(join(tmpdir(), 'synod-bench-kv-'))
const clusters: Cluster[] = []
let tearingDown: Promise<void> | undefined

async function teardown (): Promise<void> {
  tearingDown ??= (async () => {
    await Promise.all(clusters.map(async (cluster) => { await cluster.stop() }))
    rmSync(root, { recursive: true, force: true })
  })()
  await tearingDown
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the clusters`)
    void teardown().finally(() => process.exit(130))
  })
}

const generatorPath = fileURLToPath(new URL('generator.ts', import.meta.url))

/** Runs one cell in a fresh generator process and samples the servers' CPU around its measured window. */
async function cell (cluster: Cluster, request: RunRequest, idleCores: number[]): Promise<Side> {
  const child = fork(generatorPath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pids = cluster.servers.map((server) => server.child.pid)
  let before: number[] = []
  let after: number[] = []
  let systemBefore = 0
  let systemAfter = 0
  const systemTime = (): number => pids.reduce<number>((sum, pid) => sum + cpuSplit(pid).system, 0)
  let wallBefore = 0
  let wallAfter = 0
  let result: RunResult | undefined
  let failure: string | undefined
  child.on('message', (message: GeneratorMessage) => {
    if (message.type === 'measuring') { before = pids.map(cpuMicros); systemBefore = systemTime(); wallBefore = performance.now() }
    if (message.type === 'measured') { after = pids.map(cpuMicros); systemAfter = systemTime(); wallAfter = performance.now() }
    if (message.type === 'done') result = message.result
    if (message.type === 'failed') failure = message.error
  })
  child.send(request)
  await once(child, 'exit')
  if (result === undefined) throw new Error(`generator for ${request.system} ${request.workload} ×${request.concurrency} failed: ${failure ?? 'no result'}`)
  const used = after.map((value, i) => value - (before[i] ?? Number.NaN))
  const serverCpu = used.reduce((sum, value) => sum + value, 0)
  const wallUs = (wallAfter - wallBefore) * 1000
  const idleUs = idleCores.reduce((sum, cores) => sum + cores, 0) * wallUs
  return {
    ...result,
    serverCpuUsPerOp: serverCpu / result.ops,
    serverCpuUsPerOpNetOfIdle: (serverCpu - idleUs) / result.ops,
    serverKernelShare: Number(((systemAfter - systemBefore) / serverCpu).toFixed(2)),
    clientCores: Number((result.clientCpuUs / wallUs).toFixed(2)),
    clientCpuUsPerOp: result.clientCpuUs / result.ops,
    serverCores: used.map((value) => Number((value / wallUs).toFixed(2)))
  }
}

function request (system: System, workload: Workload, concurrency: number, synod: SynodCluster, etcd: EtcdCluster): RunRequest {
  return { system, workload, concurrency, warmupMs, seconds, synod: { ws: synod.ws, api: synod.api }, etcd: etcd.endpoints }
}

async function main (): Promise<void> {
  const started = new Date()
  console.log(`starting a 3-node Synod cluster and a 3-member etcd cluster under ${root}`)
  const synod = await startSynod(join(root, 'synod'), tickMs, values['cpu-prof'])
  clusters.push(synod)
  const etcd = await startEtcd(join(root, 'etcd'))
  clusters.push(etcd)
  const settings = {
    synod: `Raft, ${tickMs} ms tick (heartbeat 1 tick, election timeout 10 ticks), lazy commit propagation (the default), file log with fdatasync, transport-ws; client @synod/client over WebSocket + MessagePack (one client, all calls multiplexed); locks @synod/client's lock API (@synod/lock's client) over the same WebSocket + MessagePack connections (one lock client and session per simulated client)`,
    etcd: `etcd ${etcd.version} (Debian etcd-server), defaults: heartbeat 100 ms, election 1000 ms, WAL fsync on; client etcd3 npm over gRPC (one client, round-robin across members); locks etcd's v3lock service (what etcdctl lock uses) over etcd's gRPC gateway with fetch, one lease per simulated client (reused)`,
    generator: `closed loop, one fresh generator process per cell, ${warmupMs} ms warm-up then ${seconds} s measured; keys 16 bytes (10,000), values 128 bytes; gets linearizable`
  }
  // What each cluster burns doing nothing (heartbeats, timers), so per-operation CPU at low rates can be read.
  const pids = (cluster: Cluster): Array<number | undefined> => cluster.servers.map((server) => server.child.pid)
  const idleBefore = [...pids(synod), ...pids(etcd)].map(cpuMicros)
  const idleStart = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const idleAfter = [...pids(synod), ...pids(etcd)].map(cpuMicros)
  const idleWallUs = (performance.now() - idleStart) * 1000
  const idle = idleAfter.map((value, i) => Number(((value - (idleBefore[i] ?? 0)) / idleWallUs).toFixed(3)))
  const idleCores = { synod: idle.slice(0, 3), etcd: idle.slice(3) }
  console.log(`idle server CPU (cores): Synod ${idleCores.synod.join(' ')}, etcd ${idleCores.etcd.join(' ')}`)
  console.log(`Synod: ${settings.synod}\netcd:  ${settings.etcd}\nload:  ${settings.generator}\n`)

  const cells: Array<{ workload: Row['workload'], concurrency: number }> = []
  for (const workload of ['put', 'get'] as const) {
    if (only.has(workload)) for (const concurrency of clientCounts) cells.push({ workload, concurrency })
  }
  for (const workload of ['lock-1', 'lock-100'] as const) if (only.has(workload)) cells.push({ workload, concurrency: 16 })

  const rows: Row[] = []
  let loaded = false
  for (const { workload, concurrency } of cells) {
    if (workload === 'get' && !loaded) {
      // Every key exists before the first get, on both sides.
      for (const [system, cluster] of [['synod', synod], ['etcd', etcd]] as const) await cell(cluster, request(system, 'load', 64, synod, etcd), idleCores[system])
      loaded = true
    }
    // Alternate which side goes first, so that drift in the machine's load does not favour one.
    const order = rows.length % 2 === 0 ? (['synod', 'etcd'] as const) : (['etcd', 'synod'] as const)
    const sides: Partial<Record<System, Side>> = {}
    for (const system of order) sides[system] = await cell(system === 'synod' ? synod : etcd, request(system, workload, concurrency, synod, etcd), idleCores[system])
    const row: Row = { workload, concurrency, synod: sides.synod as Side, etcd: sides.etcd as Side, ratio: (sides.synod?.opsPerSec ?? 0) / (sides.etcd?.opsPerSec ?? 1) }
    rows.push(row)
    const { synod: s, etcd: e } = row
    console.log(`${workload.padEnd(8)} ×${String(concurrency).padEnd(3)}  Synod ${s.opsPerSec.toFixed(0).padStart(6)}/s p99 ${s.p99Ms.toFixed(1).padStart(6)} ms cpu ${s.serverCpuUsPerOp.toFixed(0)} µs/op (kernel ${(s.serverKernelShare * 100).toFixed(0)}%)` +
      ` | etcd ${e.opsPerSec.toFixed(0).padStart(6)}/s p99 ${e.p99Ms.toFixed(1).padStart(6)} ms cpu ${e.serverCpuUsPerOp.toFixed(0)} µs/op (kernel ${(e.serverKernelShare * 100).toFixed(0)}%) | ×${row.ratio.toFixed(2)}` +
      (s.firstError !== undefined || e.firstError !== undefined ? `  errors: ${s.firstError ?? ''} ${e.firstError ?? ''}` : ''))
  }
  // Sharding: the same generator against fresh clusters started with --shards (etcd has no counterpart).
  const stopped = clusters.splice(0)
  await Promise.all(stopped.map(async (cluster) => { await cluster.stop() }))
  let sharded: ShardRow[] = []
  let idleShards: IdleShards | undefined
  if (only.has('shards')) {
    console.log(`\nsharding: 3 nodes started with --shards ${values.shards}; puts through @synod/client (routes each key to its shard's leader)`)
    sharded = await shardRows({
      shardCounts: values.shards.split(',').map(Number),
      concurrencies: values['shard-clients'].split(',').map(Number),
      start: async (shards) => {
        const cluster = await startSynod(join(root, `synod-${shards}-shards`), tickMs, undefined, ['--shards', String(shards)])
        clusters.push(cluster)
        return cluster
      },
      cell: async (cluster, runRequest) => await cell(cluster, runRequest, idleCores.synod),
      request: (cluster, concurrency) => ({ system: 'synod', workload: 'put', concurrency, warmupMs, seconds, synod: { ws: cluster.ws, api: cluster.api }, etcd: [] }),
      log: (line) => { console.log(line) }
    })
  }
  if (only.has('idle-shards')) {
    const count = Number(values['idle-shards'])
    console.log(`\nidle: 3 nodes started with --shards ${count} (every node holds a replica of every shard)`)
    const cluster = await startSynod(join(root, `synod-idle-${count}`), tickMs, undefined, ['--shards', String(count)])
    clusters.push(cluster)
    idleShards = await measureIdleShards(cluster, count, 10, cpuMicros)
    console.log(`idle ${count} shards: CPU ${idleShards.cpuPercent.join(' / ')} % of a core, ${idleShards.messagesPerSecond.join(' / ')} peer messages/s, awake ${idleShards.awake.join(' / ')}`)
  }
  await teardown()

  const table = markdownTable(rows)
  console.log(`\n${table}\n`)
  if (sharded.length > 0 || idleShards !== undefined) console.log(`${shardTable(sharded, idleShards)}\n`)
  if (values['no-write']) return
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavg: loadavg().map((v) => Number(v.toFixed(2))), node: process.version }
  mkdirSync(values.out, { recursive: true })
  writeFileSync(join(values.out, 'kv.json'), JSON.stringify({ date: started.toISOString(), machine, settings, seconds, idleCores, rows, sharding: { rows: sharded, idle: idleShards } }, null, 2) + '\n')
  writeFileSync(join(values.out, 'kv.svg'), svgChart(rows, 'Synod vs etcd on 3 nodes, 127.0.0.1, fsync on',
    `Synod: Raft, ${tickMs} ms tick · etcd ${etcd.version} defaults · ${machine.cpus} cores · ${started.toISOString().slice(0, 16)}Z · ratio Synod/etcd in brackets`))
  console.log(`wrote ${join(values.out, 'kv.json')} and kv.svg`)
}

main().catch(async (error: unknown) => {
  console.error(error)
  await teardown()
  process.exitCode = 1
})
