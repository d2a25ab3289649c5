import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HardStateStorage, LogStorage, Transport } from '@synod/interfaces'
import { createMemoryNetwork } from '@synod/sim'
import { createFileHardStateStorage, createFileLogStorage, createMemoryHardStateStorage, createMemoryLogStorage } from '@synod/storage'
import { createRaftNode } from '@synod/raft'
import type { CommitPropagation, RaftNode, RaftWireMessage } from '@synod/raft'
import { createPerEntryCopyLogStorage } from './per-entry-copy-log.js'
import { CounterStateMachine, memorySnapshots, percentile, seededRandom, systemClock } from './support.js'

/**
 * Which LogStorage the three nodes use: `@synod/storage`'s memory log (copying, the default, or
 * `copy: false`), its file WAL, or the benchmark-only baseline that copies into one buffer per entry.
 */
export type BenchStorage = 'memory' | 'memory-no-copy' | 'per-entry-copy' | 'file'

export interface ClusterResult {
  entries: number
  seconds: number
  /** CPU time the process used during the measured window (user + system): on a shared machine, entries per CPU-second is steadier than entries per second. */
  cpuSeconds: number
  p50: number
  p99: number
  /** Messages the nodes sent to each other in the window (every wire message: appends, answers, heartbeats). */
  messages: number
  /** Of those, appends that carried no entries (commit index only, or probes). */
  emptyAppends: number
}

/**
 * A 3-node cluster in one process: real drivers on the in-memory network, memory or file storage,
 * `proposers` concurrent callers each proposing 100-byte commands back to back on the leader. The
 * proposers run for `warmupMs` before the measured window opens, so the JIT has compiled the hot
 * path and the young generation has reached its working size.
 */
export async function benchCluster (options: { storage: BenchStorage, proposers: number, durationMs: number, warmupMs?: number, commitPropagation?: CommitPropagation }): Promise<ClusterResult> {
  const ids = ['n1', 'n2', 'n3']
  const network = createMemoryNetwork({ delivery: 'macrotask', clone: false })
  const dirs: string[] = []
  const nodes: Array<RaftNode<number>> = []
  const sent = { messages: 0, emptyAppends: 0 }
  for (const [i, id] of ids.entries()) {
    let log: LogStorage
    let hardState: HardStateStorage
    if (options.storage !== 'file') {
      log = options.storage === 'per-entry-copy' ? createPerEntryCopyLogStorage() : createMemoryLogStorage({ copy: options.storage === 'memory' })
      hardState = createMemoryHardStateStorage()
    } else {
      const dir = await mkdtemp(join(tmpdir(), `synod-raft-bench-${id}-`))
      dirs.push(dir)
      log = createFileLogStorage({ dir: join(dir, 'log') })
      hardState = createFileHardStateStorage({ dir: join(dir, 'state') })
    }
    nodes.push(createRaftNode<number>({
      id,
      bootstrap: { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((x) => [x, x])) },
      maxUncommittedBytes: 256 * 1024 * 1024,
      maxInflightMessages: 1024,
      tickMs: Number(process.env.RAFT_BENCH_TICK_MS ?? 100),
      commitPropagation: options.commitPropagation
    }, {
      transport: countingSends(network.endpoint<RaftWireMessage>(id, { peers: ids.filter((x) => x !== id) }), sent),
      log,
      hardState,
      snapshots: memorySnapshots(),
      stateMachine: new CounterStateMachine(),
      clock: systemClock,
      random: seededRandom(i + 1)
    }))
  }
  await Promise.all(nodes.map(async (node) => { await node.start() }))
  let leader: RaftNode<number> | undefined
  while ((leader = nodes.find((n) => n.isLeader())) === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  const payload = new Uint8Array(100)

  // One proposal in eight is timed: reading the clock twice per proposal would cost the run a few percent.
  const latencies = new Float64Array(1_000_000)
  let timed = 0
  let count = 0
  let measuring = false
  let stop = false
  const proposer = async (): Promise<void> => {
    while (!stop) {
      if (measuring && (count & 7) === 0 && timed < latencies.length) {
        const t0 = performance.now()
        await leader.propose(payload)
        latencies[timed++] = performance.now() - t0
      } else {
        await leader.propose(payload)
      }
      count++
    }
  }
  const running = Array.from({ length: options.proposers }, proposer)
  await new Promise((resolve) => setTimeout(resolve, options.warmupMs ?? 1000))
  measuring = true
  const countAtStart = count
  const sentAtStart = { ...sent }
  const started = performance.now()
  const cpuAtStart = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, options.durationMs))
  stop = true
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuAtStart)
  const entries = count - countAtStart
  const messages = sent.messages - sentAtStart.messages
  const emptyAppends = sent.emptyAppends - sentAtStart.emptyAppends
  await Promise.all(running)
  await Promise.all(nodes.map(async (node) => { await node.stop() }))
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  const sorted = latencies.subarray(0, timed).sort()
  return { entries, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, p50: percentile(sorted, 50), p99: percentile(sorted, 99), messages, emptyAppends }
}

/** Counts what a node sends (the endpoint's own `send`, wrapped in place). */
function countingSends<T extends Transport<RaftWireMessage>> (transport: T, sent: { messages: number, emptyAppends: number }): T {
  const send = transport.send.bind(transport)
  transport.send = (to, message, options) => {
    sent.messages++
    if (message.type === 'append' && message.entries.length === 0) sent.emptyAppends++
    return send(to, message, options)
  }
  return transport
}
