import { createLockClient, type LockClient } from '@synod/lock'
import { createSeededRandom } from '../random.js'
import type { LockRun, GrantRecord } from './check.js'
import { createFencedCounter, type FencedCounter } from './fenced-counter.js'
import { createHttpLockServer, createTrafficGate } from './http-lock-server.js'
import { createWsLockServer } from './ws-lock-server.js'

export interface LockWorkloadOptions {
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly url: string, readonly wsUrl: string }>
  /**
   * `http`: one HTTP stub per node (`/v1/locks/*`); `ws`: `@synod/client`'s lock server over the
   * WebSocket client API, as a user of the client takes locks. @default 'http'
   */
  readonly transport?: 'http' | 'ws' | undefined
  /** Clients competing for the one lock. */
  readonly workers: number
  readonly seed: number
  /** Session TTL of every client. */
  readonly ttlMs: number
  /** One critical section in this many pauses its client past the TTL (0: never). */
  readonly pauseOneIn: number
  /** Give up an acquire after this long. */
  readonly acquireTimeoutMs: number
  readonly thinkMs: number
  /** Milliseconds since the workload started. */
  readonly now: () => number
  readonly isRunning: () => boolean
}

/** The lock name every worker competes for. */
export const LOCK_NAME = 'faults/counter'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const codeOf = (error: unknown): string => (error as { code?: string }).code ?? (error as Error).name

/**
 * Runs the lock workload until `isRunning` turns false: each worker (its own `@synod/lock` client,
 * talking HTTP to every node) takes the lock, reads the fenced counter with its token, works a
 * little, writes the value read plus one, and releases. Now and then a worker is paused inside the
 * critical section for longer than its session TTL (all its traffic held back, keepalives
 * included) and then writes anyway with its old token, as a process back from a long GC pause does:
 * the counter must refuse that write if anyone was granted the lock meanwhile.
 */
export async function runLockWorkload (options: LockWorkloadOptions): Promise<LockRun> {
  const counter = createFencedCounter(options.now)
  const grants: GrantRecord[] = []
  const acquireFailures: Record<string, number> = {}
  const failures: Array<{ atMs: number, worker: number, code: string, message: string }> = []
  let nextGrant = 1
  const clients: LockClient[] = []
  const connections: Array<{ close: () => Promise<void> }> = []

  async function worker (index: number): Promise<void> {
    const random = createSeededRandom(options.seed * 7919 + index)
    const gate = createTrafficGate()
    let servers
    if (options.transport === 'ws') {
      const { server, client } = createWsLockServer(options.nodes.map((node) => node.wsUrl), gate)
      connections.push(client)
      servers = [server]
    } else {
      servers = options.nodes.map((node) => createHttpLockServer(node.id, node.url, gate))
    }
    const client = createLockClient({ servers }, { ttlMs: options.ttlMs, requestTimeoutMs: 1000, retryDelayMs: 50 })
    clients.push(client)
    await client.start()
    while (options.isRunning()) {
      const calledMs = options.now()
      let lock
      try {
        lock = await client.acquire(LOCK_NAME, { timeoutMs: options.acquireTimeoutMs })
      } catch (error) {
        const code = codeOf(error)
        acquireFailures[code] = (acquireFailures[code] ?? 0) + 1
        if (failures.length < 2000) failures.push({ atMs: options.now(), worker: index, code, message: (error as Error).message })
        await sleep(100)
        continue
      }
      const pause = options.pauseOneIn > 0 && random.int(options.pauseOneIn) === 0
      const grant: GrantRecord = { grant: nextGrant++, worker: index, token: lock.token, calledMs, acquiredMs: options.now(), paused: pause }
      grants.push(grant)
      await criticalSection(counter, grant, pause ? { gate, ms: Math.round(options.ttlMs * (1.3 + random.next() / 2)) } : { ms: random.int(30) })
      try {
        await lock.release()
        grant.release = 'ok'
      } catch (error) {
        const code = codeOf(error)
        grant.release = code === 'ERR_NOT_HELD' || code === 'ERR_SESSION_EXPIRED' ? 'lost' : 'unknown'
      }
      await sleep(options.thinkMs)
    }
  }

  await Promise.all(Array.from({ length: options.workers }, async (_, i) => { await worker(i + 1) }))
  // Stopping closes sessions; a cluster that cannot answer must not hold the run up.
  await Promise.race([Promise.allSettled(clients.map(async (c) => { await c.stop() })), sleep(5000)])
  await Promise.race([Promise.allSettled(connections.map(async (c) => { await c.close() })), sleep(2000)])
  // The oldest token is stale once any later grant used the counter: the counter must refuse it.
  const tokens = grants.map((g) => g.token)
  const oldest = Math.min(...tokens)
  const staleProbe = grants.length >= 2 && oldest < Math.max(...tokens)
    ? { token: oldest, accepted: counter.write(0, oldest, counter.peek() + 1) }
    : undefined
  // The probe's write, if wrongly accepted, shows up in the increments and the replay.
  return { transport: options.transport ?? 'http', grants, accesses: counter.accesses, finalValue: counter.peek(), acquireFailures, failures, staleProbe }
}

async function criticalSection (counter: FencedCounter, grant: GrantRecord, work: { ms: number, gate?: ReturnType<typeof createTrafficGate> }): Promise<void> {
  const value = counter.read(grant.grant, grant.token)
  if (value === undefined) return
  if (work.gate !== undefined) work.gate.close()
  try {
    await sleep(work.ms)
  } finally {
    work.gate?.open()
  }
  // Deliberately ignores lock.signal: a holder that lost its lease without noticing writes anyway,
  // and the fence is what must stop it.
  counter.write(grant.grant, grant.token, value + 1)
}
