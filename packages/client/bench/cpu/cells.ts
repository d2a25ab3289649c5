/**
 * One side of the CPU benchmark: closed-loop calls of one client against the stand-in node at
 * `SYNOD_STAND_IN`, each cell `BENCH_MS` long, measuring this process's CPU (user + system) per
 * call. Prints the cells as one JSON line. Which `@synod/client` and `@synod/lock` it runs is
 * decided by the tsconfig paths the driver gives tsx.
 */
import { createClient } from '@synod/client'
import { connectRpcClient } from '@synod/transport-ws'

export interface Cell { workload: string, callers: number, calls: number, cpuMicros: number, wallMs: number }

const address = process.env.SYNOD_STAND_IN ?? ''
const durationMs = Number(process.env.BENCH_MS ?? 1000)
const value = new Uint8Array(128).fill(7)
const key = (caller: number, i: number): string => `key-${(caller * 7919 + i) % 10_000}`.padEnd(16, '.')

async function closedLoop (callers: number, ms: number, call: (caller: number, i: number) => Promise<unknown>): Promise<{ calls: number, cpuMicros: number, wallMs: number }> {
  let calls = 0
  const startCpu = process.cpuUsage()
  const start = performance.now()
  const end = start + ms
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    for (let i = 0; performance.now() < end; i++) {
      await call(caller, i)
      calls++
    }
  }))
  const wallMs = performance.now() - start
  const cpu = process.cpuUsage(startCpu)
  return { calls, cpuMicros: cpu.user + cpu.system, wallMs }
}

const raw = await connectRpcClient<Record<string, unknown>, unknown>(address)
const client = createClient({ endpoints: [address] })
const locks = client.locks()
let seq = 0

const workloads: Record<string, (caller: number, i: number) => Promise<unknown>> = {
  'raw RPC put (floor)': async (caller, i) => raw.request({ op: 'put', key: key(caller, i), value, client: 'bench/0', seq: ++seq }),
  put: async (caller, i) => client.put(key(caller, i), value),
  get: async (caller, i) => client.get(key(caller, i)),
  // Each caller its own name: every acquire is granted at once.
  'lock, own name': async (caller) => { await (await locks.acquire(`lock-${caller}`)).release() },
  // All callers on one name: acquires queue and wait for their grant (lock.awaitGrant), as in a handoff chain.
  'lock, one name': async () => { await (await locks.acquire('shared')).release() }
}
const plan: Array<[string, number]> = [
  ['raw RPC put (floor)', 1], ['raw RPC put (floor)', 16],
  ['put', 1], ['put', 16], ['get', 1], ['get', 16],
  ['lock, own name', 1], ['lock, own name', 16], ['lock, one name', 16]
]

// Warm up every path (connections, sessions, JIT) before anything is measured.
for (const [workload, callers] of plan) await closedLoop(callers, Math.min(300, durationMs / 2), workloads[workload] as (caller: number, i: number) => Promise<unknown>)

const cells: Cell[] = []
for (const [workload, callers] of plan) {
  cells.push({ workload, callers, ...await closedLoop(callers, durationMs, workloads[workload] as (caller: number, i: number) => Promise<unknown>) })
}
console.log(JSON.stringify(cells))
await client.close()
await raw.close()
