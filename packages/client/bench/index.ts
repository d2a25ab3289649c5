/**
 * What the client costs over a bare RPC connection: closed-loop puts and gets against one
 * in-process stand-in node (a map, no replication), at several concurrencies, with the raw
 * transport-ws RPC client as the baseline in the same run. A second table measures shard routing:
 * the same client against a stand-in that answers a 16-shard map (every shard on it), next to a
 * client against an unsharded stand-in, cells interleaved. Run with `pnpm bench client`.
 */
import { createClient } from '@synod/client'
import { connectRpcClient, createRpcServer } from '@synod/transport-ws'
import { parseShardMapView } from '../src/routing/shard-map.js'
import { ShardTable } from '../src/routing/shard-table.js'

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000)
const CONCURRENCY = [1, 16, 64]
const value = new Uint8Array(128).fill(7)

const store = new Map<string, Uint8Array>()
let revision = 0
/** A stand-in node; `shards` is what it answers to `{ op: 'shards' }`. */
const standIn = (shards: unknown): ReturnType<typeof createRpcServer<Record<string, unknown>, unknown>> => createRpcServer<Record<string, unknown>, unknown>({
  handler: (request) => {
    const key = request.key as string
    if (request.op === 'put') {
      store.set(key, request.value as Uint8Array)
      return { ok: true, revision: ++revision, index: revision }
    }
    if (request.op === 'get') {
      const stored = store.get(key)
      return { revision, item: stored === undefined ? null : { key, value: stored, createRevision: 1, modRevision: 1, version: 1 } }
    }
    if (request.op === 'shards') return shards
    return { id: 'n1', role: 'leader', term: 1, leader: 'n1', commitIndex: revision, appliedIndex: revision, firstIndex: 1, lastIndex: revision, config: { voters: ['n1'], learners: [], addresses: {} } }
  },
  maxInFlightPerConnection: 1024
})
// An unsharded node: the client keeps its one-group routing.
const server = standIn({ epoch: 0, shardCount: 0, nodes: [], shards: [] })
await server.start()
const address = server.address ?? ''
// A sharded node hosting and leading all 16 shards: every keyed call is routed through the map.
const SHARDS = 16
let shardedAddress = ''
const sharded = standIn({
  get epoch () { return 1 },
  shardCount: SHARDS,
  get nodes () { return [{ id: 'n1', address: 'n1', wsUrl: shardedAddress }] },
  shards: Array.from({ length: SHARDS }, (_, shard) => ({ shard, replicas: ['n1'], leader: 'n1', preferredLeader: 'n1', moving: false }))
})
await sharded.start()
shardedAddress = sharded.address ?? ''

interface Result { opsPerSecond: number, p50: number, p99: number }

async function closedLoop (concurrency: number, operation: (worker: number, i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = []
  const end = performance.now() + DURATION_MS
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; performance.now() < end; i++) {
      const start = performance.now()
      await operation(worker, i)
      latencies.push(performance.now() - start)
    }
  }))
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { opsPerSecond: latencies.length / (DURATION_MS / 1000), p50: at(0.5), p99: at(0.99) }
}

const raw = await connectRpcClient<Record<string, unknown>, unknown>(address)
const client = createClient({ endpoints: [address] })
const key = (worker: number, i: number): string => `key-${(worker * 7919 + i) % 10_000}`.padEnd(16, '.')
let seq = 0

// Warm up both paths (connections, JIT) before anything is measured.
const warmEnd = performance.now() + 500
for (let i = 0; performance.now() < warmEnd; i++) {
  await raw.request({ op: 'put', key: key(0, i), value, client: 'bench/0', seq: ++seq })
  await client.put(key(0, i), value)
  await raw.request({ op: 'get', key: key(0, i) })
  await client.get(key(0, i))
}

const rows: string[] = []
for (const op of ['put', 'get'] as const) {
  for (const concurrency of CONCURRENCY) {
    const baseline = await closedLoop(concurrency, async (worker, i) => raw.request(op === 'put'
      ? { op, key: key(worker, i), value, client: 'bench/0', seq: ++seq }
      : { op, key: key(worker, i) }))
    const measured = await closedLoop(concurrency, async (worker, i) => op === 'put'
      ? client.put(key(worker, i), value)
      : client.get(key(worker, i)))
    rows.push(`| ${op} | ${concurrency} | ${baseline.opsPerSecond.toFixed(0)} | ${measured.opsPerSecond.toFixed(0)} | ${(measured.opsPerSecond / baseline.opsPerSecond).toFixed(2)} | ${baseline.p50.toFixed(2)} / ${baseline.p99.toFixed(2)} | ${measured.p50.toFixed(2)} / ${measured.p99.toFixed(2)} |`)
  }
}

console.log(`\nclient vs raw RPC, one in-process stand-in node, ${DURATION_MS} ms per cell, 16-byte keys, 128-byte values\n`)
console.log('| op | concurrency | raw RPC ops/s | client ops/s | client/raw | raw p50 / p99 ms | client p50 / p99 ms |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const row of rows) console.log(row)

const shardClient = createClient({ endpoints: [shardedAddress] })
await shardClient.get(key(0, 0))
if (shardClient.shardMap()?.shardCount !== SHARDS) throw new Error('the sharded stand-in was not recognised')
const warmSharded = performance.now() + 500
for (let i = 0; performance.now() < warmSharded; i++) {
  await shardClient.put(key(0, i), value)
  await shardClient.get(key(0, i))
}
const shardRows: string[] = []
for (const op of ['put', 'get'] as const) {
  for (const concurrency of CONCURRENCY) {
    const run = async (target: typeof client): Promise<Result> => closedLoop(concurrency, async (worker, i) => op === 'put'
      ? target.put(key(worker, i), value)
      : target.get(key(worker, i)))
    // Alternate the two, three rounds each, and keep the median round: the machine is shared.
    const unshardedRounds: Result[] = []
    const shardedRounds: Result[] = []
    for (let round = 0; round < 3; round++) {
      unshardedRounds.push(await run(client))
      shardedRounds.push(await run(shardClient))
    }
    const median = (rounds: Result[]): Result => [...rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[1] as Result
    const unshardedResult = median(unshardedRounds)
    const shardedResult = median(shardedRounds)
    shardRows.push(`| ${op} | ${concurrency} | ${unshardedResult.opsPerSecond.toFixed(0)} | ${shardedResult.opsPerSecond.toFixed(0)} | ${(shardedResult.opsPerSecond / unshardedResult.opsPerSecond).toFixed(2)} | ${unshardedResult.p50.toFixed(2)} / ${unshardedResult.p99.toFixed(2)} | ${shardedResult.p50.toFixed(2)} / ${shardedResult.p99.toFixed(2)} |`)
  }
}

console.log(`\nshard routing: client against an unsharded stand-in vs a ${SHARDS}-shard one, ${DURATION_MS} ms per cell, median of 3 alternating rounds\n`)
console.log('| op | concurrency | unsharded ops/s | sharded ops/s | sharded/unsharded | unsharded p50 / p99 ms | sharded p50 / p99 ms |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const row of shardRows) console.log(row)

// The routing decision alone (hash the key, look up the shard's leader), without any I/O.
const table = new ShardTable(parseShardMapView({
  epoch: 1,
  shardCount: 64,
  nodes: ['n1', 'n2', 'n3'].map((id) => ({ id, address: id, wsUrl: `ws://${id}:7101` })),
  shards: Array.from({ length: 64 }, (_, shard) => ({ shard, replicas: ['n1', 'n2', 'n3'], leader: `n${1 + shard % 3}`, preferredLeader: 'n1', moving: false }))
}))
const none = new Set<string>()
const routeKeys = Array.from({ length: 10_000 }, (_, i) => key(0, i))
let routed = 0
const routeStart = performance.now()
for (let i = 0; i < 2_000_000; i++) {
  const routeKey = routeKeys[i % routeKeys.length] as string
  if (table.leaderUrl(table.shardOf(routeKey), none) !== undefined) routed++
}
console.log(`\nrouting one keyed call by a 64-shard map (murmur3 + leader lookup): ${((performance.now() - routeStart) * 1000 / routed).toFixed(3)} µs\n`)

await shardClient.close()
await client.close()
await raw.close()
await server.stop()
await sharded.stop()
