import { afterEach, describe, expect, it } from 'vitest'
import { planRebalance } from '../../src/sharding/rebalance-plan.js'
import { runRebalance } from '../../src/sharding/rebalance-runner.js'
import { placeShards, type ShardPlacement } from '../../src/sharding/shard-map.js'
import type { ShardHost } from '../../src/sharding/shard-host.js'
import { allLed, fastTiming, startShardCluster, until, type ShardCluster } from './support.js'

let cluster: ShardCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

/** Every shard's voters, as its leader's configuration says, must be the placement's replicas; each host hosts exactly its shards. */
function expectPlacementLive (hosts: ShardHost[], placement: readonly ShardPlacement[]): void {
  for (const { shard, replicas } of placement) {
    const leader = hosts.find((host) => host.replica(shard)?.raft.isLeader() === true)
    expect(leader, `a leader for shard ${shard}`).toBeDefined()
    const config = leader!.replica(shard)!.raft.status().config
    expect([...config.voters].sort()).toEqual([...replicas].sort())
    expect(config.learners).toEqual([])
    for (const host of hosts) expect(host.replica(shard) !== undefined, `${host.nodeId} hosts shard ${shard}`).toBe(replicas.includes(host.nodeId))
  }
}

describe('rebalancing live shards', () => {
  it('grows 3 -> 4 nodes and shrinks back: replicas move as planned and every acknowledged write stays readable', async () => {
    const shardCount = 8
    // A lost forward (to a replica that just left) costs the writer one timeout: keep it short.
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount, raft: { defaultTimeoutMs: 2000 } })
    const hosts = cluster.hosts
    await until(() => allLed(hosts, shardCount), 'a leader in every shard')
    const written = new Map<string, number>()
    for (let i = 0; i < 40; i++) {
      await hosts[i % 3]!.write({ op: 'put', key: `k${i}`, value: new Uint8Array([i]) })
      written.set(`k${i}`, i)
    }

    // n4 joins hosting nothing; the plan moves replicas to it.
    const three = hosts[0]!.placement()
    const n4 = await cluster.addHost('n4', { placement: three })
    for (const host of hosts) host.addNode({ id: 'n4', address: 'memory://n4' })
    expect(n4.stats().shards).toBe(0)
    const four = placeShards({ nodes: cluster.nodes, shardCount })
    const grow = planRebalance(three, four)
    expect(grow.copies).toBeGreaterThan(0)
    // Writes continue while replicas move.
    let writing = true
    let next = 100
    const writer = (async () => {
      while (writing) {
        const key = `k${next}`
        await hosts[next % 3]!.write({ op: 'put', key, value: new Uint8Array([next % 256]) }).then(() => { written.set(key, next % 256) }, () => {})
        next++
      }
    })()
    await runRebalance(grow, four, hosts)
    writing = false
    await writer
    expect(written.size).toBeGreaterThan(40) // some writes were acknowledged while replicas moved
    await until(() => allLed(hosts, shardCount), 'a leader in every shard after growing')
    expectPlacementLive(hosts, four)
    expect(n4.stats().shards).toBe(four.filter((p) => p.replicas.includes('n4')).length)

    const readAll = async (): Promise<void> => {
      for (const [key, value] of written) {
        const shard = hosts[0]!.shardOf(key)
        const holder = hosts.find((host) => host.replica(shard) !== undefined)!
        expect([...((await holder.get(key))?.value ?? [])], key).toEqual([value])
      }
    }
    await readAll()

    // And back to three: n4 gives up every replica.
    const shrink = planRebalance(four, three)
    await runRebalance(shrink, three, hosts)
    await until(() => allLed(hosts, shardCount), 'a leader in every shard after shrinking')
    expectPlacementLive(hosts, three)
    expect(n4.stats().shards).toBe(0)
    await readAll()
  })
})
