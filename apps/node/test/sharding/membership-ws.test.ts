import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createWsTransport } from '@synod/transport-ws'
import { isMuxEnvelope, type MuxEnvelope } from '../../src/sharding/group-mux.js'
import type { ShardMessage } from '../../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardHostInit, type ShardNode } from '../../src/sharding/shard-host.js'
import { memoryShardStorage } from '../../src/sharding/shard-storage.js'
import { systemClock } from '../../src/system/clock.js'
import { allLed, fastTiming, retryNotLeader, seededRandom, until } from './support.js'

/** Free loopback ports, all taken at once (so none is handed out twice) and released for the hosts. */
async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<ReturnType<typeof createServer>>((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => { resolve(server) })
  })))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map(async (server) => { await new Promise((resolve) => server.close(resolve)) }))
  return ports
}

const secret = 'a shared cluster secret, 16+ bytes'
let hosts: ShardHost[] = []
afterEach(async () => {
  await Promise.all(hosts.map(async (host) => { await host.stop() }))
  hosts = []
})

describe('membership changes over transport-ws', () => {
  it('a node started on its own socket joins, receives replicas, and is drained again', async () => {
    const ports = await freePorts(4)
    const node = (i: number): ShardNode => ({ id: `n${i + 1}`, address: `ws://127.0.0.1:${ports[i]!}` })
    const init = { ...fastTiming, shardCount: 8, raft: { defaultTimeoutMs: 2000, snapshotEveryEntries: 16, compactionLagEntries: 4 } } satisfies Partial<ShardHostInit>
    const start = async (i: number, nodes: ShardNode[], join: boolean): Promise<ShardHost> => {
      const id = `n${i + 1}`
      const transport = createWsTransport<MuxEnvelope<ShardMessage>>({ nodeId: id, clusterId: 'membership-ws', secret, isMessage: isMuxEnvelope, listen: { host: '127.0.0.1', port: ports[i]! } })
      const host = createShardHost({ ...init, nodeId: id, nodes, join }, { transport, storage: memoryShardStorage(), clock: systemClock, random: seededRandom(5000 + i) })
      await host.start()
      hosts.push(host)
      return host
    }
    const founders = [0, 1, 2].map(node)
    for (const i of [0, 1, 2]) await start(i, founders, false)
    await until(() => allLed(hosts, 8) && hosts.every((host) => host.metadata()?.epoch === 1), 'a leader in every shard and the metadata bootstrapped', 20_000)
    const [n1, n2] = hosts as [ShardHost, ShardHost]
    for (let i = 0; i < 40; i++) await retryNotLeader(async () => await n1.write({ op: 'put', key: `k${i}`, value: new Uint8Array([i]) }))

    const n4 = await start(3, [...founders, node(3)], true)
    expect((await n2.addMember(node(3))).ok).toBe(true)
    await until(() => n4.stats().shards > 0 && !n1.rebalanceStatus().active && !n4.rebalanceStatus().active, 'replicas to move to n4', 30_000)
    expect(n4.shardCount).toBe(8)
    // n4 reads its own replicas linearizably (ReadIndex through each shard's leader, over the sockets).
    for (let i = 0; i < 40; i++) {
      const key = `k${i}`
      if (n4.replica(n4.shardOf(key)) === undefined) continue
      expect([...((await retryNotLeader(async () => await n4.get(key)))?.value ?? [])]).toEqual([i])
    }

    expect((await n1.removeMember('n4')).ok).toBe(true)
    await until(() => n4.stats().shards === 0 && n1.metadata()!.nodes.length === 3 && !n1.rebalanceStatus().active, 'n4 to be drained', 30_000)
    for (const host of hosts.slice(0, 3)) expect(host.stats().shards).toBe(8)
    for (let i = 0; i < 40; i++) expect([...((await retryNotLeader(async () => await hosts[i % 3]!.get(`k${i}`)))?.value ?? [])]).toEqual([i])
  })
})
