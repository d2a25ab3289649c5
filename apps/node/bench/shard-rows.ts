// The sharding rows of `pnpm bench kv`: the same 3-node cluster of `synod start` processes with
// `--shards 1`, `--shards 16` and `--shards 64`, driven by the same generator (@synod/client, which
// routes each key to its shard's leader from the shard map), and the idle cost of 1,000 shards per
// node: CPU of each process and peer messages per second once every shard has quiesced.
import type { SynodCluster } from './clusters.js'
import type { RunRequest } from './protocol.js'
import type { Side } from './report.js'

export interface ShardRow {
  shards: number
  concurrency: number
  side: Side
  /** ops/s divided by the 1-shard row's at the same concurrency. */
  vsOneShard: number
  /** Shard leaders per node when the cell began. */
  leaders: number[]
}

export interface IdleShards {
  shards: number
  seconds: number
  /** CPU of each node process over the window, in percent of one core. */
  cpuPercent: number[]
  /** Peer messages sent per second by each node (node heartbeats; a quiesced shard sends none). */
  messagesPerSecond: number[]
  /** Shards awake on each node at the end of the window. */
  awake: number[]
}

interface ShardMap { shardCount: number, shards: Array<{ leader: string | null, preferredLeader: string }>, nodes: Array<{ id: string }> }
interface Status { sharding?: { stats: { hosted: number, awake: number, quiesced: number }, rebalance: { active: boolean } } }

async function json<T> (url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return await response.json() as T
}

async function until (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    try {
      if (await check()) return
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${what} within ${timeoutMs} ms`)
}

/** Waits until every shard has a leader and sits on its preferred node (the node balances leaders itself). */
export async function waitForShardLeaders (cluster: SynodCluster, shards: number, timeoutMs = 120_000): Promise<number[]> {
  let leaders: number[] = []
  await until(`every one of ${shards} shards led by its preferred node`, timeoutMs, async () => {
    const map = await json<ShardMap>(`${cluster.api[0] ?? ''}/v1/shards`)
    if (map.shardCount !== shards) return false
    const ids = map.nodes.map((node) => node.id).sort()
    leaders = ids.map((id) => map.shards.filter((shard) => shard.leader === id).length)
    return map.shards.every((shard) => shard.leader !== null && shard.leader === shard.preferredLeader)
  })
  return leaders
}

/** Reads `synod_transport_messages_sent_total` from each node's `/metrics`. */
async function messagesSent (cluster: SynodCluster): Promise<number[]> {
  return await Promise.all(cluster.api.map(async (url) => {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    const line = text.split('\n').find((l) => l.startsWith('synod_transport_messages_sent_total'))
    return Number(line?.split(' ').at(-1) ?? Number.NaN)
  }))
}

/**
 * Measures an idle sharded cluster: waits until every shard has a leader and every replica has
 * quiesced, then samples each process's CPU time and messages sent over `seconds`.
 */
export async function measureIdleShards (cluster: SynodCluster, shards: number, seconds: number, cpuMicros: (pid: number | undefined) => number): Promise<IdleShards> {
  await waitForShardLeaders(cluster, shards, 300_000)
  await until('every replica quiesced', 120_000, async () => {
    const statuses = await Promise.all(cluster.api.map(async (url) => await json<Status>(`${url}/v1/status`)))
    return statuses.every((status) => status.sharding !== undefined && status.sharding.stats.awake === 0)
  })
  const pids = cluster.servers.map((server) => server.child.pid)
  const cpuBefore = pids.map(cpuMicros)
  const sentBefore = await messagesSent(cluster)
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const cpuAfter = pids.map(cpuMicros)
  const sentAfter = await messagesSent(cluster)
  const wallUs = (performance.now() - started) * 1000
  const statuses = await Promise.all(cluster.api.map(async (url) => await json<Status>(`${url}/v1/status`)))
  return {
    shards,
    seconds,
    cpuPercent: cpuAfter.map((value, i) => Number((100 * (value - (cpuBefore[i] ?? 0)) / wallUs).toFixed(2))),
    messagesPerSecond: sentAfter.map((value, i) => Number(((value - (sentBefore[i] ?? 0)) / (wallUs / 1e6)).toFixed(1))),
    awake: statuses.map((status) => status.sharding?.stats.awake ?? Number.NaN)
  }
}

/** One put cell per (shard count, concurrency), on a fresh cluster per shard count. */
export async function shardRows (options: {
  shardCounts: number[]
  concurrencies: number[]
  start: (shards: number) => Promise<SynodCluster>
  cell: (cluster: SynodCluster, request: RunRequest) => Promise<Side>
  request: (cluster: SynodCluster, concurrency: number) => RunRequest
  log: (line: string) => void
}): Promise<ShardRow[]> {
  const rows: ShardRow[] = []
  for (const shards of options.shardCounts) {
    const cluster = await options.start(shards)
    try {
      const leaders = await waitForShardLeaders(cluster, shards)
      for (const concurrency of options.concurrencies) {
        const side = await options.cell(cluster, options.request(cluster, concurrency))
        const base = rows.find((row) => row.shards === options.shardCounts[0] && row.concurrency === concurrency)
        const row: ShardRow = { shards, concurrency, side, vsOneShard: base === undefined ? 1 : side.opsPerSec / base.side.opsPerSec, leaders }
        rows.push(row)
        options.log(`put ×${String(concurrency).padEnd(3)} ${String(shards).padStart(3)} shards (leaders ${leaders.join('/')})  ${side.opsPerSec.toFixed(0).padStart(6)}/s ` +
          `p99 ${side.p99Ms.toFixed(1).padStart(6)} ms cpu ${side.serverCpuUsPerOp.toFixed(0)} µs/op, cores ${side.serverCores.join(' ')} | ×${row.vsOneShard.toFixed(2)} of ${options.shardCounts[0] ?? 1} shard` +
          (side.firstError === undefined ? '' : `  errors: ${side.errors} ${side.firstError}`))
      }
    } finally {
      await cluster.stop()
    }
  }
  return rows
}

export function shardTable (rows: ShardRow[], idle: IdleShards | undefined): string {
  const lines = [
    '| workload | clients | shards | leaders per node | ops/s | vs 1 shard | p50 / p99 ms | server CPU µs/op | server cores |',
    '|---|---:|---:|---|---:|---:|---:|---:|---|'
  ]
  for (const row of rows) {
    const s = row.side
    lines.push(`| put | ${row.concurrency} | ${row.shards} | ${row.leaders.join(' / ')} | ${s.opsPerSec.toFixed(0)} | ${row.vsOneShard.toFixed(2)} | ${s.p50Ms.toFixed(2)} / ${s.p99Ms.toFixed(2)} | ${s.serverCpuUsPerOp.toFixed(0)} | ${s.serverCores.join(' / ')} |`)
  }
  if (idle !== undefined) {
    lines.push('', `Idle: ${idle.shards} shards on each of 3 nodes, ${idle.seconds} s window after every replica quiesced`, '',
      '| node | CPU (% of one core) | peer messages/s | shards awake |', '|---|---:|---:|---:|')
    idle.cpuPercent.forEach((cpu, i) => { lines.push(`| n${i + 1} | ${cpu.toFixed(2)} | ${idle.messagesPerSecond[i] ?? '-'} | ${idle.awake[i] ?? '-'} |`) })
  }
  return lines.join('\n')
}
