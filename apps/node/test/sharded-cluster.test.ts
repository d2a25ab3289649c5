import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, createKvModel, formatReport } from '@synod/lincheck'
import { murmur3 } from '@synod/ring'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { createProcessCluster, type ClusterMember, type ProcessCluster } from './support/cluster.js'
import { eventually } from './support/eventually.js'
import { missingAcknowledged, startKvWorkload } from './support/workload.js'

/**
 * Sharding on real processes: three `synod start --shards 16` nodes grow to five and shrink back
 * to three while clients write. Replicas move by the metadata group's plan (learner, catch-up,
 * promote, remove), no acknowledged write is lost, the client history is linearizable, and each
 * node ends with a share of the shard replicas within 20% of the mean. Then the node leading the
 * most shards is killed with SIGKILL and restarted from its data directory while writes go on.
 */
const SHARDS = 16

interface ShardMap {
  epoch: number
  shardCount: number
  nodes: Array<{ id: string }>
  shards: Array<{ shard: number, replicas: string[], leader: string | null, moving: boolean }>
}
interface Rebalance { active: boolean, moving: number, pending: number, movesDone: number, draining: string[] }

const roots: string[] = []
const clusters: ProcessCluster[] = []
afterAll(async () => {
  await Promise.all(clusters.map(async (cluster) => { await cluster.stopAll() }))
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

async function call (member: ClusterMember, method: string, path: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(`http://${member.api}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(35_000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}


/** Replicas per node in a map. */
function shares (map: ShardMap): Map<string, number> {
  const counts = new Map<string, number>(map.nodes.map((node) => [node.id, 0]))
  for (const shard of map.shards) for (const id of shard.replicas) counts.set(id, (counts.get(id) ?? 0) + 1)
  return counts
}

/** Shards a node's status says it leads. */
function leading (status: Record<string, unknown>): number {
  return (status.sharding as { stats?: { leading?: number } } | undefined)?.stats?.leading ?? 0
}

function withinOfMean (counts: Map<string, number>, ids: string[], tolerance: number): boolean {
  const mean = ids.reduce((sum, id) => sum + (counts.get(id) ?? 0), 0) / ids.length
  return ids.every((id) => Math.abs((counts.get(id) ?? 0) - mean) <= tolerance * mean)
}

describe('a sharded cluster of processes', () => {
  it('grows from 3 to 5 nodes and back to 3 under writes, survives a kill -9, losing nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'synod-sharded-'))
    roots.push(root)
    const cluster = await createProcessCluster(root, 3, 50, { clientWs: true, args: ['--shards', String(SHARDS)] })
    clusters.push(cluster)
    const members = cluster.members
    const serving = (): ClusterMember[] => members.filter((m) => m.process !== undefined)
    const n1 = members[0] as ClusterMember

    const shardMap = async (member: ClusterMember = n1): Promise<ShardMap> => (await call(member, 'GET', '/v1/shards')).body as unknown as ShardMap
    const rebalance = async (member: ClusterMember = n1): Promise<Rebalance> =>
      ((await call(member, 'GET', '/v1/status')).body.sharding as { rebalance: Rebalance }).rebalance
    // Settled: the recorded placement is the target, nobody is draining, and no shard is moving.
    const settled = async (): Promise<ShardMap> => {
      const state = await rebalance()
      if (state.active || state.draining.length > 0) throw new Error(`rebalancing: ${JSON.stringify(state)}`)
      return await shardMap()
    }

    const first = await eventually(shardMap, (map) => map.shardCount === SHARDS && map.shards.every((shard) => shard.leader !== null), 'every shard has a leader', 60_000)
    expect([...shares(first).values()]).toEqual([SHARDS, SHARDS, SHARDS])

    const workload = startKvWorkload(serving, { clients: 3, keys: ['a', 'b', 'c', 'd', 'e', 'f'] })
    onTestFinished(async () => { await workload.stop() })
    await eventually(async () => workload.acknowledged.size, (size) => size >= 10, 'writes before the growth', 60_000)

    // Grow: start two nodes with --join, then admit them through any member.
    const joiners = [await cluster.spawnJoiner('n4'), await cluster.spawnJoiner('n5')]
    for (const joiner of joiners) {
      const added = await call(members[1] as ClusterMember, 'POST', '/v1/members', {
        op: 'add', id: joiner.id, peerAddress: joiner.peer, apiUrl: `http://${joiner.api}`, wsUrl: `ws://${joiner.ws ?? ''}`
      })
      expect(added.status, JSON.stringify(added.body)).toBe(200)
    }
    const grown = await eventually(settled, (map) => map.nodes.length === 5 && withinOfMean(shares(map), ['n1', 'n2', 'n3', 'n4', 'n5'], 0.2),
      'replicas spread over five nodes', 150_000)
    expect(grown.shards.every((shard) => shard.replicas.length === 3)).toBe(true)
    expect((await rebalance()).movesDone).toBeGreaterThan(0)
    // The new nodes serve their shards: a key of a shard n4 now holds is written and read through n4.
    const n4 = joiners[0] as ClusterMember
    const key = Array.from({ length: 1000 }, (_, i) => `grown-${i}`).find((k) => grown.shards[murmur3(k) % SHARDS]?.replicas.includes('n4') === true) as string
    const put = await fetch(`http://${n4.api}/v1/kv/${key}`, { method: 'PUT', body: 'yes', signal: AbortSignal.timeout(10_000) })
    expect(await put.json()).toMatchObject({ ok: true })
    expect((await call(n4, 'GET', `/v1/kv/${key}`)).body).toMatchObject({ value: 'yes' })

    const ackedAtFive = workload.acknowledged.size
    await eventually(async () => workload.acknowledged.size, (size) => size >= ackedAtFive + 10, 'writes on five nodes', 60_000)

    // Shrink: drain the two new nodes; their replicas move back to the founders.
    for (const joiner of joiners) {
      const removed = await call(n1, 'POST', '/v1/members', { op: 'remove', id: joiner.id })
      expect(removed.status, JSON.stringify(removed.body)).toBe(200)
    }
    const shrunk = await eventually(settled, (map) => map.nodes.length === 3 && [...shares(map).values()].every((count) => count === SHARDS),
      'replicas back on three nodes', 150_000)
    expect(shrunk.nodes.map((node) => node.id).sort()).toEqual(['n1', 'n2', 'n3'])
    for (const joiner of joiners) await cluster.kill(joiner, 'SIGTERM')

    const ackedAtThree = workload.acknowledged.size
    await eventually(async () => workload.acknowledged.size, (size) => size >= ackedAtThree + 10, 'writes after the shrink', 60_000)

    // Crash: kill -9 the node leading the most shards, write on, restart it from its data directory.
    const statuses = await Promise.all(members.slice(0, 3).map(async (member) => ({ member, status: (await call(member, 'GET', '/v1/status')).body })))
    const victim = statuses.sort((a, b) => leading(b.status) - leading(a.status))[0]?.member as ClusterMember
    await cluster.kill(victim, 'SIGKILL')
    const ackedWhileDown = workload.acknowledged.size
    await eventually(async () => workload.acknowledged.size, (size) => size >= ackedWhileDown + 10, `writes with ${victim.id} down`, 60_000)
    cluster.start(victim)
    await eventually(async () => ((await call(victim, 'GET', '/v1/status')).body.sharding as { stats: { hosted: number } }).stats.hosted, (hosted) => hosted === SHARDS,
      `${victim.id} back with its shards`, 60_000)
    const ackedAfterRestart = workload.acknowledged.size
    await eventually(async () => workload.acknowledged.size, (size) => size >= ackedAfterRestart + 10, 'writes after the restart', 60_000)
    await workload.stop()

    const missing = await missingAcknowledged(serving, workload.acknowledged)
    expect(missing, `acknowledged writes lost: ${missing.join(', ')}`).toEqual([])
    const history = workload.recorder.history()
    expect(history.length).toBeGreaterThan(50)
    mkdirSync(join('test-results', 'histories'), { recursive: true })
    writeFileSync(join('test-results', 'histories', 'node-sharded-grow-shrink.json'), workload.recorder.toJSON())
    const model = createKvModel()
    const check = checkHistory(history, { model })
    if (check.verdict !== 'linearizable') console.error(formatReport(check, model))
    expect(check.verdict).toBe('linearizable')
  }, 420_000)
})
