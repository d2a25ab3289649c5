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
    // Snapshots every 16 entries, 4 kept behind: a new replica catches up from a snapshot.
    // runRebalance moves the replicas here (the in-process coordinator), not the metadata leader.
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount, autoRebalance: false, raft: { defaultTimeoutMs: 2000, snapshotEveryEntries: 16, compactionLagEntries: 4 } })
    const hosts = cluster.hosts
    await until(() => allLed(hosts, shardCount), 'a leader in every shard')
    const written = new Map<string, number>()
    /** A client's write: ERR_NOT_LEADER (a leader change, a replica that just left) is retried after a pause. */
    const put = async (host: ShardHost, key: string, value: number): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          await host.write({ op: 'put', key, value: new Uint8Array([value]) })
          written.set(key, value)
          return
        } catch (error) {
          if ((error as { code?: string }).code !== 'ERR_NOT_LEADER' || attempt === 20) throw error
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    }
    for (let i = 0; i < 160; i++) await put(hosts[i % 3]!, `k${i}`, i)

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
        // Failed writes (outcome unknown after a timeout) are dropped from the check; the pause keeps a
        // run of immediate rejections from starving the event loop.
        await put(hosts[next % 3]!, `k${next}`, next % 256).catch(async () => { await new Promise((resolve) => setTimeout(resolve, 20)) })
        next++
      }
    })()
    const record = async (placement: ShardPlacement): Promise<void> => {
      expect((await hosts[0]!.proposeMetadata({ op: 'set-shard-placement', placement })).ok).toBe(true)
    }
    await runRebalance(grow, four, hosts, { record })
    // The writer keeps going through and after the move until a few of its writes were acknowledged.
    await until(() => written.size >= 170, 'writes acknowledged across the move')
    writing = false
    await writer
    await until(() => allLed(hosts, shardCount), 'a leader in every shard after growing')
    expectPlacementLive(hosts, four)
    expect(n4.stats().shards).toBe(four.filter((p) => p.replicas.includes('n4')).length)
    // The founding nodes agree on the new placement through the metadata group.
    await until(() => hosts.slice(0, 3).every((host) => JSON.stringify(host.metadata()?.placement) === JSON.stringify(four)), 'the metadata group to hold the new placement')
    // The logs were compacted before n4 joined, so its replicas started from installed snapshots.
    const installed = four.filter((p) => p.replicas.includes('n4')).map((p) => n4.replica(p.shard)!.raft.metrics().snapshotsInstalled)
    expect(installed.every((count) => count >= 1)).toBe(true)

    const readAll = async (): Promise<void> => {
      for (const [key, value] of written) {
        const shard = hosts[0]!.shardOf(key)
        const holder = hosts.find((host) => host.replica(shard) !== undefined)!
        // A ReadIndex refused during a leader change (ERR_NOT_LEADER) is retried, as a client would.
        let record
        for (let attempt = 0; ; attempt++) {
          try {
            record = await holder.get(key)
            break
          } catch (error) {
            if ((error as { code?: string }).code !== 'ERR_NOT_LEADER' || attempt === 20) throw error
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        }
        expect([...(record?.value ?? [])], key).toEqual([value])
      }
    }
    await readAll()

    // And back to three: n4 gives up every replica.
    const shrink = planRebalance(four, three)
    await runRebalance(shrink, three, hosts, { record })
    await until(() => allLed(hosts, shardCount), 'a leader in every shard after shrinking')
    expectPlacementLive(hosts, three)
    expect(n4.stats().shards).toBe(0)
    await readAll()
  })
})
