import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClusterConfig, HardStateStorage, LogStorage, NodeId, ReplicatedLog, Transport } from '@synod/interfaces'
import { createMemoryNetwork } from '@synod/sim'
import { createFileHardStateStorage, createFileLogStorage, createMemoryHardStateStorage, createMemoryLogStorage } from '@synod/storage'
import { createRaftNode } from '@synod/raft'
import type { RaftWireMessage } from '@synod/raft'
import { createPaxosNode } from '../src/index.js'
import type { PaxosHardState, PaxosWireMessage } from '../src/index.js'
import { CounterStateMachine, memorySnapshots, percentile, seededRandom, systemClock } from './support.js'

export type Engine = 'paxos' | 'raft'

export interface ClusterResult {
  entries: number
  seconds: number
  p50: number
  p99: number
}

interface Parts {
  id: NodeId
  bootstrap: ClusterConfig
  transport: Transport<unknown>
  log: LogStorage
  hardState: HardStateStorage<unknown>
  seed: number
}

/** Builds one node of either engine from the same parts: the point of a shared contract. */
function build (engine: Engine, parts: Parts, tickMs: number): ReplicatedLog<number> {
  const common = { snapshots: memorySnapshots(), stateMachine: new CounterStateMachine(), clock: systemClock, random: seededRandom(parts.seed) }
  if (engine === 'raft') {
    return createRaftNode<number>({ id: parts.id, bootstrap: parts.bootstrap, tickMs, maxUncommittedBytes: 256 * 1024 * 1024, maxInflightMessages: 1024 }, {
      ...common, transport: parts.transport as Transport<RaftWireMessage>, log: parts.log, hardState: parts.hardState as HardStateStorage
    })
  }
  return createPaxosNode<number>({ id: parts.id, bootstrap: parts.bootstrap, tickMs, ...(process.env.PAXOS_BENCH_WINDOW !== undefined ? { activationWindow: Number(process.env.PAXOS_BENCH_WINDOW) } : {}) }, {
    ...common, transport: parts.transport as Transport<PaxosWireMessage>, log: parts.log, hardState: parts.hardState as HardStateStorage<PaxosHardState>
  })
}

/**
 * A 3-node cluster in one process: real drivers on the in-memory network, memory or file storage,
 * `proposers` concurrent callers each proposing 100-byte commands back to back on the leader.
 */
export async function benchCluster (engine: Engine, options: { storage: 'memory' | 'file', proposers: number, durationMs: number }): Promise<ClusterResult> {
  const ids = ['n1', 'n2', 'n3']
  const bootstrap: ClusterConfig = { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((x) => [x, x])) }
  const network = createMemoryNetwork({ delivery: 'macrotask', clone: false })
  const dirs: string[] = []
  const nodes: Array<ReplicatedLog<number>> = []
  for (const [i, id] of ids.entries()) {
    let log: LogStorage
    let hardState: HardStateStorage<unknown>
    if (options.storage === 'memory') {
      log = createMemoryLogStorage()
      hardState = createMemoryHardStateStorage<unknown>()
    } else {
      const dir = await mkdtemp(join(tmpdir(), `synod-${engine}-bench-${id}-`))
      dirs.push(dir)
      log = createFileLogStorage({ dir: join(dir, 'log') })
      hardState = createFileHardStateStorage<unknown>({ dir: join(dir, 'state') })
    }
    const transport = network.endpoint<unknown>(id, { peers: ids.filter((x) => x !== id) })
    nodes.push(build(engine, { id, bootstrap, transport, log, hardState, seed: i + 1 }, Number(process.env.PAXOS_BENCH_TICK_MS ?? 100)))
  }
  await Promise.all(nodes.map(async (node) => { await node.start() }))
  let leader: ReplicatedLog<number> | undefined
  while ((leader = nodes.find((n) => n.isLeader())) === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  const payload = new Uint8Array(100)
  // Warm up.
  await Promise.all(Array.from({ length: 1000 }, async () => await leader.propose(payload)))

  const latencies = new Float64Array(4_000_000)
  let count = 0
  let stop = false
  const started = performance.now()
  const proposer = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now()
      await leader.propose(payload)
      if (count < latencies.length) latencies[count] = performance.now() - t0
      count++
    }
  }
  const running = Array.from({ length: options.proposers }, proposer)
  await new Promise((resolve) => setTimeout(resolve, options.durationMs))
  stop = true
  const seconds = (performance.now() - started) / 1000
  const entries = count
  await Promise.all(running)
  await Promise.all(nodes.map(async (node) => { await node.stop() }))
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  const sorted = latencies.subarray(0, Math.min(count, latencies.length)).sort()
  return { entries, seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}
