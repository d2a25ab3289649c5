/**
 * What the client costs over a bare RPC connection: closed-loop puts and gets against one
 * in-process stand-in node (a map, no replication), at several concurrencies, with the raw
 * transport-ws RPC client as the baseline in the same run. Run with `pnpm bench client`.
 */
import { createClient } from '@synod/client'
import { connectRpcClient, createRpcServer } from '@synod/transport-ws'

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000)
const CONCURRENCY = [1, 16, 64]
const value = new Uint8Array(128).fill(7)

const store = new Map<string, Uint8Array>()
let revision = 0
const server = createRpcServer<Record<string, unknown>, unknown>({
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
    // An unsharded node: the client keeps its one-group routing.
    if (request.op === 'shards') return { epoch: 0, shardCount: 0, nodes: [], shards: [] }
    return { id: 'n1', role: 'leader', term: 1, leader: 'n1', commitIndex: revision, appliedIndex: revision, firstIndex: 1, lastIndex: revision, config: { voters: ['n1'], learners: [], addresses: {} } }
  },
  maxInFlightPerConnection: 1024
})
await server.start()
const address = server.address ?? ''

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

await client.close()
await raw.close()
await server.stop()
