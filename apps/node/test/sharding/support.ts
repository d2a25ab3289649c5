import { createMemoryNetwork, createRandom, type SimRandom } from '@synod/sim'
import type { MuxEnvelope } from '../../src/sharding/group-mux.js'
import type { ShardMessage } from '../../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardHostInit, type ShardNode } from '../../src/sharding/shard-host.js'
import { memoryShardStorage } from '../../src/sharding/shard-storage.js'
import { systemClock } from '../../src/system/clock.js'

export async function until (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Seeded randomness from the simulator's generator, so election timeouts differ per replica but runs repeat their choices. */
export function seededRandom (seed: number): SimRandom {
  return createRandom(seed)
}

/** Fast timing for tests: 20 ms ticks, a 200 ms election timeout; a generous liveness timeout, so a stalled event loop on a loaded machine is not taken for a dead node. */
export const fastTiming = { tickMs: 20, electionTicks: 10, heartbeatIntervalMs: 100, livenessTimeoutMs: 1500 } satisfies Partial<ShardHostInit>

export interface ShardCluster {
  hosts: ShardHost[]
  nodes: ShardNode[]
  /** Starts one more host on the same network, knowing every node so far plus itself. */
  addHost(id: string, init?: Partial<ShardHostInit>): Promise<ShardHost>
  stop(): Promise<void>
}

/** Shard hosts on an in-memory network, one per node id. */
export async function startShardCluster (ids: string[], init: Omit<ShardHostInit, 'nodeId' | 'nodes'>, zones?: string[]): Promise<ShardCluster> {
  const network = createMemoryNetwork({ delivery: 'macrotask' })
  const nodes: ShardNode[] = ids.map((id, i) => ({ id, address: `memory://${id}`, zone: zones?.[i] }))
  const hosts = ids.map((id, i) => createShardHost({ ...init, nodeId: id, nodes }, {
    transport: network.endpoint<MuxEnvelope<ShardMessage>>(id),
    storage: memoryShardStorage(),
    clock: systemClock,
    random: seededRandom(1000 + i)
  }))
  await Promise.all(hosts.map(async (host) => { await host.start() }))
  return {
    hosts,
    nodes,
    async addHost (id, extra = {}) {
      nodes.push({ id, address: `memory://${id}` })
      const host = createShardHost({ ...init, ...extra, nodeId: id, nodes: [...nodes] }, {
        transport: network.endpoint<MuxEnvelope<ShardMessage>>(id),
        storage: memoryShardStorage(),
        clock: systemClock,
        random: seededRandom(1000 + hosts.length)
      })
      await host.start()
      hosts.push(host)
      return host
    },
    async stop () { await Promise.all(hosts.map(async (host) => { await host.stop() })) }
  }
}

/** The leader of `shard` as its replicas agree on it, if one leads. */
export function leaderOf (hosts: ShardHost[], shard: number): string | undefined {
  for (const host of hosts) {
    const replica = host.replica(shard)
    if (replica?.raft.isLeader() === true) return host.nodeId
  }
  return undefined
}

export function allLed (hosts: ShardHost[], shardCount: number): boolean {
  for (let shard = 0; shard < shardCount; shard++) if (leaderOf(hosts, shard) === undefined) return false
  return true
}

/** Runs a request as a client would: one refused during a leader change (ERR_NOT_LEADER) is retried after a pause. */
export async function retryNotLeader<T> (run: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_NOT_LEADER' || attempt === attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}
