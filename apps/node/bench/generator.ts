// The closed-loop load generator, one process per table row so that its CPU is its own and not
// counted against the servers. `index.ts` forks it, sends one `RunRequest`, and reads back a
// `measuring` message when the warm-up ends and a `done` message with the results.
import { Etcd3 } from 'etcd3'
import { createClient } from '@synod/client'
import type { GeneratorMessage, RunRequest, RunResult } from './protocol.js'

const KEY_COUNT = 10_000
const VALUE = new Uint8Array(128).map((_, i) => 97 + (i % 26))

/** 16-byte keys: `key-` and 12 digits. */
export function keyOf (i: number): string {
  return `key-${String(i).padStart(12, '0')}`
}

type Op = (worker: number, iteration: number) => Promise<void>

interface Target {
  op: Op
  close: () => Promise<void>
}

async function synodTarget (request: RunRequest): Promise<Target> {
  if (request.workload === 'put' || request.workload === 'get' || request.workload === 'load') {
    const client = createClient({ endpoints: request.synod.ws, timeoutMs: 30_000 })
    const op: Op = request.workload === 'get'
      ? async () => { await client.get(keyOf(Math.floor(Math.random() * KEY_COUNT))) }
      : request.workload === 'load'
        ? async (worker, iteration) => { await client.put(keyOf(worker + iteration * request.concurrency), VALUE) }
        : async () => { await client.put(keyOf(Math.floor(Math.random() * KEY_COUNT)), VALUE) }
    return { op, close: async () => { await client.close() } }
  }
  const client = createClient({ endpoints: request.synod.ws, timeoutMs: 30_000 })
  const names = request.workload === 'lock-1' ? 1 : 100
  // One lock client (one session) per simulated client, as with one etcd lease per client below,
  // all over the one @synod/client connection set.
  const clients = Array.from({ length: request.concurrency }, () => client.locks({ ttlMs: 10_000 }))
  return {
    op: async (worker) => {
      const locks = clients[worker]
      if (locks === undefined) throw new Error('no lock client')
      const lock = await locks.acquire(`lock-${Math.floor(Math.random() * names)}`, { timeoutMs: 30_000 })
      await lock.release()
    },
    // Closing the client closes every lock session.
    close: async () => { await client.close() }
  }
}

function etcdTarget (request: RunRequest): Target {
  const etcd = new Etcd3({ hosts: request.etcd })
  const value = Buffer.from(VALUE)
  const names = request.workload === 'lock-1' ? 1 : 100
  const ops: Record<RunRequest['workload'], Op> = {
    // etcd3's get is linearizable unless `.serializable(true)` is asked for.
    get: async () => { await etcd.get(keyOf(Math.floor(Math.random() * KEY_COUNT))).buffer() },
    put: async () => { await etcd.put(keyOf(Math.floor(Math.random() * KEY_COUNT))).value(value).exec() },
    load: async (worker, iteration) => { await etcd.put(keyOf(worker + iteration * request.concurrency)).value(value).exec() },
    'lock-1': async (worker) => { await etcdLock(request.etcd, worker, `lock-${Math.floor(Math.random() * names)}`) },
    'lock-100': async (worker) => { await etcdLock(request.etcd, worker, `lock-${Math.floor(Math.random() * names)}`) }
  }
  return {
    op: ops[request.workload],
    close: async () => {
      etcd.close()
      await Promise.all([...leases].map(async ([worker, lease]) => etcdJson(request.etcd, worker, '/v3/lease/revoke', { ID: lease })))
    }
  }
}

// etcd's lock service (v3lock, what `etcdctl lock` uses) through etcd's gRPC gateway: the server
// queues waiters and answers when the lock is granted. The etcd3 npm package's `Lock` is a
// try-lock that rejects when the name is held, so it is not the baseline. As with Synod's lock
// client, each simulated client holds one lease (session) and reuses it for every acquire.
const leases = new Map<number, string>()

async function etcdJson (endpoints: string[], worker: number, path: string, body: unknown): Promise<Record<string, unknown>> {
  const endpoint = endpoints[worker % endpoints.length] ?? ''
  const res = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) })
  const json = await res.json() as Record<string, unknown>
  if (!res.ok || json.error !== undefined) throw new Error(`etcd ${path}: ${JSON.stringify(json)}`)
  return json
}

async function etcdLock (endpoints: string[], worker: number, name: string): Promise<void> {
  let lease = leases.get(worker)
  if (lease === undefined) {
    lease = String((await etcdJson(endpoints, worker, '/v3/lease/grant', { TTL: 60 })).ID)
    leases.set(worker, lease)
  }
  const { key } = await etcdJson(endpoints, worker, '/v3/lock/lock', { name: Buffer.from(name).toString('base64'), lease })
  await etcdJson(endpoints, worker, '/v3/lock/unlock', { key })
}

function send (message: GeneratorMessage): void {
  process.send?.(message)
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

async function run (request: RunRequest): Promise<RunResult> {
  const target = request.system === 'synod' ? await synodTarget(request) : etcdTarget(request)
  const latencies: number[] = []
  let measuring = false
  let stopped = false
  let errors = 0
  let firstError: string | undefined
  const limit = request.workload === 'load' ? Math.ceil(KEY_COUNT / request.concurrency) : Number.POSITIVE_INFINITY

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stopped && i < limit; i++) {
      const started = performance.now()
      try {
        await target.op(w, i)
        if (measuring) latencies.push(performance.now() - started)
      } catch (error) {
        if (measuring) errors += 1
        firstError ??= String((error as Error).message)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  }
  const workers = Array.from({ length: request.concurrency }, async (_, w) => worker(w))

  let cpuBefore = process.cpuUsage()
  let measureStart = performance.now()
  if (request.workload !== 'load') {
    await new Promise((resolve) => setTimeout(resolve, request.warmupMs))
    measuring = true
    cpuBefore = process.cpuUsage()
    measureStart = performance.now()
    send({ type: 'measuring' })
    await new Promise((resolve) => setTimeout(resolve, request.seconds * 1000))
    measuring = false
  }
  const elapsedMs = performance.now() - measureStart
  const cpu = process.cpuUsage(cpuBefore)
  send({ type: 'measured' })
  stopped = true
  await Promise.all(workers)
  await target.close()

  const sorted = Float64Array.from(latencies).sort()
  return {
    ops: latencies.length,
    errors,
    firstError,
    elapsedMs,
    opsPerSec: latencies.length / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    clientCpuUs: cpu.user + cpu.system
  }
}

process.once('message', (request: RunRequest) => {
  run(request).then((result) => {
    send({ type: 'done', result })
    process.disconnect()
  }, (error: unknown) => {
    send({ type: 'failed', error: String((error as Error).stack ?? error) })
    process.disconnect()
  })
})
