/**
 * Lock throughput and acquire latency on the in-memory log: 16 clients contending on one name and
 * spread over 100 names, next to a plain in-process FIFO mutex as the baseline (what the same
 * workload costs with no log, no sessions and no fencing). The multi-node figure comes from the
 * node's benchmark, on a real cluster.
 *
 *   pnpm bench lock            # default 2 s per row
 *   pnpm bench lock -- 5000    # ms per row
 */
import { createRandom } from '@synod/sim'
import { createLockClient, createLockService, createLockStateMachine } from '../src/index.js'
import { createMemoryCluster } from '../src/testing.js'

const durationMs = Number(process.argv[2] ?? 2000)
const clientCount = 16

interface Row { scenario: string, implementation: string, ops: number, seconds: number, latencies: number[] }

type Acquire = (worker: number, name: string) => Promise<() => Promise<void>>

async function measure (scenario: string, implementation: string, names: number, acquire: Acquire): Promise<Row> {
  const latencies: number[] = []
  let ops = 0
  const start = performance.now()
  const end = start + durationMs
  await Promise.all(Array.from({ length: clientCount }, async (_, client) => {
    // Seeded, so both implementations see the same sequence of names.
    const random = createRandom(client + 1)
    while (performance.now() < end) {
      const name = `lock-${random.int(names)}`
      const asked = performance.now()
      const release = await acquire(client, name)
      latencies.push(performance.now() - asked)
      await release()
      ops++
    }
  }))
  return { scenario, implementation, ops, seconds: (performance.now() - start) / 1000, latencies }
}

/** Baseline: an in-process FIFO mutex per name. */
function localMutexes (): Acquire {
  const tails = new Map<string, Promise<void>>()
  return async (_worker, name) => {
    const previous = tails.get(name) ?? Promise.resolve()
    let unlock = (): void => {}
    const mine = new Promise<void>((resolve) => { unlock = resolve })
    const tail = previous.then(async () => await mine)
    tails.set(name, tail)
    await previous
    return async () => {
      unlock()
      if (tails.get(name) === tail) tails.delete(name)
    }
  }
}

async function lockService (replicas: number): Promise<{ acquire: Acquire, close: () => Promise<void> }> {
  const nodes = Array.from({ length: replicas }, (_, i) => `n${i + 1}`)
  const cluster = createMemoryCluster({ nodes, machine: () => createLockStateMachine() })
  const services = nodes.map((id) => createLockService({ log: cluster.log(id), machine: cluster.machine(id) }))
  for (const [i, id] of nodes.entries()) {
    await cluster.log(id).start()
    await services[i]?.start()
  }
  const clients = Array.from({ length: clientCount }, () => createLockClient({ servers: services }, { ttlMs: 10_000 }))
  return {
    // Each benchmark worker uses its own client (its own session), like 16 separate processes.
    acquire: async (worker, name) => {
      const lock = await (clients[worker] as (typeof clients)[number]).acquire(name)
      return async () => { await lock.release() }
    },
    close: async () => {
      await Promise.all(clients.map(async (client) => { await client.stop() }))
      for (const [i, id] of nodes.entries()) {
        await services[i]?.stop()
        await cluster.log(id).stop()
      }
    }
  }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

const rows: Row[] = []
for (const [scenario, names] of [['16 clients, 1 name', 1], ['16 clients, 100 names', 100]] as const) {
  rows.push(await measure(scenario, 'in-process mutex (baseline)', names, localMutexes()))
  for (const replicas of [1, 3]) {
    const service = await lockService(replicas)
    rows.push(await measure(scenario, `@synod/lock, in-memory log x${replicas}`, names, service.acquire))
    await service.close()
  }
}

console.log(`\n@synod/lock: acquire+release, ${clientCount} clients, ${durationMs} ms per row, Node ${process.version}\n`)
const header = ['scenario', 'implementation', 'ops/s', 'acquire p50 ms', 'acquire p99 ms', 'vs baseline']
const table = rows.map((row) => {
  const sorted = [...row.latencies].sort((a, b) => a - b)
  const rate = row.ops / row.seconds
  const baseline = rows.find((r) => r.scenario === row.scenario && r.implementation.includes('baseline'))
  const baseRate = baseline === undefined ? rate : baseline.ops / baseline.seconds
  return [row.scenario, row.implementation, rate.toFixed(0), percentile(sorted, 0.5).toFixed(3), percentile(sorted, 0.99).toFixed(3), `${(rate / baseRate).toFixed(3)}x`]
})
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)))
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`
console.log(line(header))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const row of table) console.log(line(row))
