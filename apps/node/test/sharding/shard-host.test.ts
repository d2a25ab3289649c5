import { afterEach, describe, expect, it } from 'vitest'
import { allLed, fastTiming, leaderOf, startShardCluster, until, type ShardCluster } from './support.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

let cluster: ShardCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

describe('shard host', () => {
  it('routes keys to their shards on every node and reads them back linearizably elsewhere', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 8 })
    const [a, b, c] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0], typeof cluster.hosts[0]]
    await until(() => allLed(cluster!.hosts, 8), 'a leader in every shard')
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`)
    const hosts = [a, b, c]
    await Promise.all(keys.map(async (key, i) => {
      const result = await hosts[i % 3]!.write({ op: 'put', key, value: bytes(`v-${i}`) })
      expect(result.ok).toBe(true)
    }))
    // The keys spread over every shard, and each shard's store holds exactly its own keys.
    expect(new Set(keys.map((key) => a.shardOf(key))).size).toBe(8)
    for (const [i, key] of keys.entries()) {
      expect(text((await hosts[(i + 1) % 3]!.get(key))?.value)).toBe(`v-${i}`)
      const shard = a.shardOf(key)
      for (let other = 0; other < 8; other++) {
        if (other !== shard) expect(b.replica(other)?.kv.get(key)).toBeUndefined()
      }
    }
    const cas = await b.write({ op: 'cas', key: 'key-3', expectedValue: bytes('v-3'), value: bytes('swapped') })
    expect(cas.ok).toBe(true)
    expect(text((await c.get('key-3'))?.value)).toBe('swapped')
  })

  it('quiesces idle shards on every replica, wakes only the shard a write touches, and quiesces it again', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 16 })
    const hosts = cluster.hosts
    await until(() => hosts.every((host) => host.stats().quiesced === 16), 'every replica to quiesce')
    // While everything is quiet, only node heartbeats flow: no group message at all.
    const before = hosts.map((host) => host.stats().mux)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const after = hosts.map((host) => host.stats().mux)
    for (let i = 0; i < hosts.length; i++) {
      expect(after[i]!.messagesSent - before[i]!.messagesSent).toBe(0)
      expect(after[i]!.heartbeatsSent - before[i]!.heartbeatsSent).toBeGreaterThan(0)
    }
    const key = 'wake-me'
    const shard = hosts[0]!.shardOf(key)
    const awakeShards = new Set<number>()
    const watch = setInterval(() => {
      for (const host of hosts) for (const line of host.status()) if (!line.quiesced) awakeShards.add(line.shard)
    }, 2)
    try {
      await hosts[1]!.write({ op: 'put', key, value: bytes('x') })
      await until(() => hosts.every((host) => host.stats().quiesced === 16), 'the shard to quiesce again')
    } finally {
      clearInterval(watch)
    }
    expect([...awakeShards]).toEqual([shard])
    expect(text(hosts[2]!.replica(shard)?.kv.get(key)?.value)).toBe('x')
  })

  it('wakes the shards of a dead node, elects new leaders and keeps serving every shard', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 12 })
    const hosts = cluster.hosts
    await until(() => hosts.every((host) => host.stats().quiesced === 12), 'every replica to quiesce')
    const counts = new Map<string, number>()
    for (let shard = 0; shard < 12; shard++) {
      const leader = leaderOf(hosts, shard) as string
      counts.set(leader, (counts.get(leader) ?? 0) + 1)
    }
    const victimId = [...counts].sort((x, y) => y[1] - x[1])[0]![0]
    const victim = hosts.find((host) => host.nodeId === victimId)!
    const survivors = hosts.filter((host) => host !== victim)
    await victim.stop()
    await until(() => survivors.every((host) => host.stats().deadPeers.includes(victimId)), 'the survivors to presume the victim dead')
    await until(() => allLed(survivors, 12), 'a new leader for every shard the victim led')
    for (let i = 0; i < 24; i++) {
      const result = await survivors[i % 2]!.write({ op: 'put', key: `after-${i}`, value: bytes(String(i)) })
      expect(result.ok).toBe(true)
    }
    expect(text((await survivors[1]!.get('after-5'))?.value)).toBe('5')
  })

  it('answers a request for a shard it does not host with ERR_NOT_LEADER and a replica as the hint', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3', 'n4'], { ...fastTiming, shardCount: 8 })
    const host = cluster.hosts[0]!
    const foreign = host.placement().find((placement) => !placement.replicas.includes(host.nodeId))
    expect(foreign).toBeDefined()
    const key = Array.from({ length: 1000 }, (_, i) => `k${i}`).find((k) => host.shardOf(k) === foreign!.shard) as string
    await expect(host.write({ op: 'put', key, value: bytes('x') })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: foreign!.preferredLeader })
    await expect(host.get(key)).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
    // The hinted node serves it (forwarding to the shard's leader if it is only a follower).
    await until(() => allLed(cluster!.hosts, 8), 'a leader in every shard')
    const hinted = cluster.hosts.find((h) => h.nodeId === foreign!.preferredLeader)!
    expect((await hinted.write({ op: 'put', key, value: bytes('x') })).ok).toBe(true)
  })

  it('without forwarding, a follower answers with its leader as the hint', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 2, forwardToLeader: false })
    await until(() => allLed(cluster!.hosts, 2), 'a leader in every shard')
    const key = 'somewhere'
    const shard = cluster.hosts[0]!.shardOf(key)
    const leader = leaderOf(cluster.hosts, shard)
    const follower = cluster.hosts.find((host) => host.nodeId !== leader)!
    await expect(follower.write({ op: 'put', key, value: bytes('x') })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: leader })
  })

  it('moves leadership to the preferred leaders, which spread evenly over the nodes', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 12 })
    const hosts = cluster.hosts
    await until(() => allLed(hosts, 12), 'a leader in every shard')
    const preferred = hosts[0]!.placement().map((placement) => placement.preferredLeader)
    await until(() => {
      for (const host of hosts) void host.balanceLeaders()
      return preferred.every((node, shard) => leaderOf(hosts, shard) === node)
    }, 'every shard led by its preferred leader')
    const perNode = ['n1', 'n2', 'n3'].map((id) => preferred.filter((node) => node === id).length)
    expect(perNode).toEqual([4, 4, 4])
  })

  it('refuses at once a forwarded write or read that reaches a replica which has left its shard', async () => {
    // Replicas dropped by hand: the metadata must not reopen them.
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 1, autoRebalance: false, raft: { defaultTimeoutMs: 5000 } })
    const hosts = cluster.hosts
    await until(() => allLed(hosts, 1), 'a leader')
    const leader = hosts.find((host) => host.nodeId === leaderOf(hosts, 0))!
    const follower = hosts.find((host) => host !== leader)!
    await follower.write({ op: 'put', key: 'a', value: bytes('1') })
    // The leader's replica leaves (as after a move); the follower still names it as the leader.
    await leader.leaveShard(0)
    expect(follower.replica(0)!.raft.status().leader).toBe(leader.nodeId)
    await expect(follower.write({ op: 'put', key: 'b', value: bytes('2') })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
    await expect(follower.get('a')).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
  })

  it('ends a read on a replica that leaves its shard with ERR_NOT_LEADER, so the client retries elsewhere', async () => {
    cluster = await startShardCluster(['n1', 'n2', 'n3'], { ...fastTiming, shardCount: 1, autoRebalance: false })
    const hosts = cluster.hosts
    await until(() => allLed(hosts, 1), 'a leader')
    const follower = hosts.find((host) => host.nodeId !== leaderOf(hosts, 0))!
    await follower.write({ op: 'put', key: 'a', value: bytes('1') })
    // A follower being moved off its shard may hold a read index it will never apply up to; the
    // read must end when the replica goes, not wait forever.
    const read = follower.get('a')
    await follower.leaveShard(0)
    await expect(read).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
  })
})
