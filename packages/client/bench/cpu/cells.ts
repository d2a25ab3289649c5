/**
 * One side of the CPU benchmark: closed-loop calls of one client against the stand-in node at
 * `SYNOD_STAND_IN`, each cell `BENCH_MS` long, measuring this process's CPU (user + system) per
 * call. After a warm-up it prints the plan (workload, callers) as a JSON line, then runs the cell
 * each input line names and prints it as a JSON line, so that the driver can interleave the two
 * sides cell by cell. Which `@synod/client` and `@synod/lock` it runs is decided by the tsconfig
 * paths the driver gives tsx.
 */
import { createInterface } from 'node:readline'
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
/** `BENCH_ONLY=lock` (comma-separated) keeps the workloads whose name contains one of the words, e.g. to profile them. */
const only = process.env.BENCH_ONLY?.split(',')
const plan = ([
  ['raw RPC put (floor)', 1], ['raw RPC put (floor)', 16],
  ['put', 1], ['put', 16], ['get', 1], ['get', 16],
  ['lock, own name', 1], ['lock, own name', 16], ['lock, one name', 16]
] as Array<[string, number]>).filter(([workload]) => only === undefined || only.some((word) => workload.includes(word)))

const run = async (at: number, ms: number): Promise<Cell> => {
  const [workload, callers] = plan[at] as [string, number]
  return { workload, callers, ...await closedLoop(callers, ms, workloads[workload] as (caller: number, i: number) => Promise<unknown>) }
}

// Warm up every path (connections, sessions, JIT) before anything is measured, then say which cells there are.
for (let at = 0; at < plan.length; at++) await run(at, 300)
console.log(JSON.stringify(plan))
// Each line on standard input names a cell to run (its position in the plan); the answer is one JSON line.
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  console.log(JSON.stringify(await run(Number(line), durationMs)))
}
await locks.stop()
await client.close()
await raw.close()
