import { afterEach, describe, expect, it } from 'vitest'
import type { AppliedCommand, ClusterConfig, StateMachine } from '@synod/interfaces'
import { checkHistory, createHistoryRecorder, createKvModel, formatReport, type HistoryRecorder } from '@synod/lincheck'
import { createMemoryNetwork, type MemoryNetwork } from '@synod/sim'
import type { MuxEnvelope } from '../../src/sharding/group-mux.js'
import type { ShardMessage } from '../../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardHostInit, type ShardNode } from '../../src/sharding/shard-host.js'
import { memoryShardStorage } from '../../src/sharding/shard-storage.js'
import { systemClock } from '../../src/system/clock.js'
import { allLed, fastTiming, seededRandom, until } from './support.js'

/**
 * Online membership changes across hosts that share nothing but the network: each host has its own
 * endpoint, storage and state machines, and no test code calls one host on another's behalf
 * except as a client would (a write or read sent to a node, a redirect followed).
 */

/** The lock group's state machine in these tests: counts the commands it applied. */
function counterMachine (): StateMachine<number> {
  let count = 0
  return {
    apply (_entry: AppliedCommand) { return ++count },
    async * snapshot () { yield new TextEncoder().encode(String(count)) },
    async restore (chunks) {
      let text = ''
      for await (const chunk of chunks) text += new TextDecoder().decode(chunk)
      count = Number(text)
    }
  }
}

const common = {
  ...fastTiming,
  shardCount: 16,
  // Two moves per node at once keeps the test short; snapshots every 16 entries, 4 kept behind, so
  // the logs are compacted by the time a replica moves and new replicas start from a snapshot.
  maxMovesPerNode: 2,
  raft: { defaultTimeoutMs: 2000, snapshotEveryEntries: 16, compactionLagEntries: 4 }
} satisfies Partial<ShardHostInit>

const nodeOf = (id: string): ShardNode => ({ id, address: `memory://${id}`, apiUrl: `http://${id}.test`, wsUrl: `ws://${id}.test/ws` })

interface Cluster {
  network: MemoryNetwork
  hosts: Map<string, ShardHost>
  start(id: string, init: Partial<ShardHostInit> & { nodes: ShardNode[] }, seed: number): Promise<ShardHost>
  stop(): Promise<void>
}

function cluster (): Cluster {
  const network = createMemoryNetwork({ delivery: 'macrotask' })
  const hosts = new Map<string, ShardHost>()
  return {
    network,
    hosts,
    async start (id, init, seed) {
      const host = createShardHost({ ...common, ...init, nodeId: id, nodes: init.nodes.map((node) => ({ ...node })), lockGroup: { stateMachine: counterMachine() } }, {
        transport: network.endpoint<MuxEnvelope<ShardMessage>>(id),
        storage: memoryShardStorage(),
        clock: systemClock,
        random: seededRandom(seed)
      })
      await host.start()
      hosts.set(id, host)
      return host
    },
    async stop () { await Promise.all([...hosts.values()].map(async (host) => { await host.stop() })) }
  }
}

let running: Cluster | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code

/** Sends a request to `first` and, like a client, follows an ERR_NOT_LEADER hint to the named node; retries after a pause. */
async function asClient<T> (hosts: Map<string, ShardHost>, first: string, run: (host: ShardHost) => Promise<T>, attempts = 30): Promise<T> {
  let target = first
  for (let attempt = 0; ; attempt++) {
    const host = hosts.get(target) ?? hosts.get(first)!
    try {
      return await run(host)
    } catch (error) {
      if (attempt === attempts || (codeOf(error) !== 'ERR_NOT_LEADER' && codeOf(error) !== 'ERR_TIMEOUT' && codeOf(error) !== 'ERR_PROPOSAL_DROPPED')) throw error
      const hint = (error as { leaderHint?: string }).leaderHint
      target = hint !== undefined && hint !== target && hosts.has(hint) ? hint : first
      await pause(20)
    }
  }
}

/** Refusals that certainly did not apply (the request reached no log): a client may send it elsewhere. */
const REFUSED = new Set(['ERR_NOT_LEADER', 'ERR_PROPOSAL_DROPPED', 'ERR_NOT_STARTED'])

/**
 * A register client for the linearizability check: puts and linearizable gets on two keys, each
 * recorded as it happened. A refused request follows the redirect; any other error leaves the
 * operation indeterminate and is not retried (a retry could apply a write twice).
 */
async function registerClient (hosts: Map<string, ShardHost>, entry: string[], recorder: HistoryRecorder, client: number, running: () => boolean): Promise<void> {
  const decoder = new TextDecoder()
  for (let n = 1; running(); n++) {
    const key = ['x', 'y'][n % 2]!
    const put = (client + n) % 3 !== 0
    const value = `c${client}-${n}`
    const pending = recorder.invoke(put ? { client, op: 'put', key, value } : { client, op: 'get', key })
    let target = entry[(client + n) % entry.length]!
    for (let attempt = 0; ; attempt++) {
      try {
        const host = hosts.get(target)!
        if (put) {
          await host.write({ op: 'put', key, value: new TextEncoder().encode(value) })
          pending.complete({ ok: true })
        } else {
          const record = await host.get(key)
          pending.complete({ ok: true, output: record === undefined ? null : decoder.decode(record.value) })
        }
        break
      } catch (error) {
        if (!REFUSED.has(codeOf(error) ?? '')) {
          pending.timeout()
          break
        }
        if (attempt === 30) {
          pending.fail()
          break
        }
        const hint = (error as { leaderHint?: string }).leaderHint
        target = hint !== undefined && hosts.has(hint) ? hint : entry[(client + n + attempt) % entry.length]!
        await pause(20)
      }
    }
  }
}

/** The configuration a group's leader holds, among `hosts`. */
function leaderConfig (hosts: ShardHost[], log: (host: ShardHost) => { isLeader(): boolean, status(): { config: ClusterConfig } } | undefined): ClusterConfig | undefined {
  for (const host of hosts) {
    const replica = log(host)
    if (replica?.isLeader() === true) return replica.status().config
  }
  return undefined
}

/** Rebalancing is over everywhere: no move or drain recorded, every shard's group is its placement, and each host hosts exactly its shards. */
function settled (hosts: ShardHost[], members: string[]): boolean {
  const states = hosts.map((host) => host.metadata())
  const first = states[0]
  if (first === undefined || states.some((state) => state?.epoch !== first.epoch)) return false
  if (first.nodes.map((node) => node.id).join() !== members.join() || hosts.some((host) => host.rebalanceStatus().active)) return false
  for (const placement of first.placement) {
    const config = leaderConfig(hosts, (host) => host.replica(placement.shard)?.raft)
    if (config === undefined || [...config.voters].sort().join() !== [...placement.replicas].sort().join() || config.learners.length > 0) return false
    for (const host of hosts) if ((host.replica(placement.shard) !== undefined) !== placement.replicas.includes(host.nodeId)) return false
  }
  return true
}

/** The small groups' members follow the metadata members: the first three voters, the rest learners. */
function smallGroupsFollow (hosts: ShardHost[], voters: string[], learners: string[]): boolean {
  for (const log of [metadataLog, (host: ShardHost) => host.lockLog()]) {
    const config = leaderConfig(hosts, log)
    if (config === undefined || config.voters.join() !== voters.join() || config.learners.join() !== learners.join()) return false
  }
  return true
}

describe('membership changes across hosts', () => {
  it('grows 3 -> 5 nodes and shrinks back to 3 under writes: no acknowledged write lost, replicas balanced, the small groups follow', async () => {
    running = cluster()
    const { hosts } = running
    const founders = ['n1', 'n2', 'n3'].map(nodeOf)
    for (const [i, node] of founders.entries()) await running.start(node.id, { nodes: founders }, 2000 + i)
    const all = (): ShardHost[] => [...hosts.values()]
    await until(() => allLed(all(), 16) && all().every((host) => host.metadata()?.epoch === 1), 'a leader in every shard and the metadata bootstrapped', 20_000)

    // A writer, as a client: distinct keys, sent to the founders in turn, redirects followed.
    const acknowledged = new Map<string, string>()
    let writing = true
    let next = 0
    const clientNodes = ['n1', 'n2', 'n3']
    const writer = (async () => {
      while (writing) {
        const i = next++
        const key = `key-${i}`
        const value = `value-${i}`
        try {
          await asClient(hosts, clientNodes[i % 3]!, async (host) => await host.write({ op: 'put', key, value: new TextEncoder().encode(value) }), 10)
          acknowledged.set(key, value)
        } catch {
          // Outcome unknown (a timeout): the key is never checked.
          await pause(20)
        }
      }
    })()
    // Register clients on two keys, for the linearizability check of the whole run.
    const recorder = createHistoryRecorder()
    const registers = [1, 2, 3].map(async (client) => { await registerClient(hosts, clientNodes, recorder, client, () => writing) })
    await until(() => acknowledged.size >= 100, 'writes before growing', 20_000)

    // n4 and n5 start empty, knowing only the founders, and are admitted through n1.
    const n4 = await running.start('n4', { nodes: [...founders, nodeOf('n4')], join: true }, 2003)
    const n5 = await running.start('n5', { nodes: [...founders, nodeOf('n5')], join: true }, 2004)
    expect(n4.stats().shards).toBe(0)
    expect(n4.shardCount).toBe(0)
    expect((await hosts.get('n1')!.addMember(nodeOf('n4'))).ok).toBe(true)
    expect((await hosts.get('n2')!.addMember(nodeOf('n5'))).ok).toBe(true)
    // Admitting again is harmless (the member list below holds n5 once).
    expect((await hosts.get('n1')!.addMember(nodeOf('n5'))).ok).toBe(true)
    await until(() => hosts.get('n3')!.rebalanceStatus().moving > 0, 'moves to be released')
    await until(() => settled(all(), ['n1', 'n2', 'n3', 'n4', 'n5']), 'the cluster to settle on five nodes', 45_000)
    const acknowledgedWhileGrowing = acknowledged.size

    // Replicas spread: every node within 20% of the mean share.
    const five = n1Placement(hosts)
    const share = (id: string): number => five.filter((placement) => placement.replicas.includes(id)).length
    const mean = (16 * 3) / 5
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) {
      expect(Math.abs(share(id) - mean), `${id} hosts ${share(id)} replicas`).toBeLessThanOrEqual(0.2 * mean)
      expect(hosts.get(id)!.stats().shards).toBe(share(id))
    }
    // New replicas caught up from snapshots (the logs had been compacted past them).
    const installed = [n4, n5].flatMap((host) => host.status().map((line) => host.replica(line.shard)!.raft.metrics().snapshotsInstalled))
    expect(installed.some((count) => count >= 1)).toBe(true)
    // The joiners learned the map: shard count, members with their URLs, moves recorded.
    expect(n5.shardCount).toBe(16)
    const map = n5.shardMap()
    expect(map.nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5'])
    expect(map.nodes[3]).toMatchObject({ apiUrl: 'http://n4.test', wsUrl: 'ws://n4.test/ws' })
    expect(map.shards.every((shard) => !shard.moving)).toBe(true)
    expect(n5.rebalanceStatus().movesDone).toBeGreaterThan(0)
    // The metadata and lock groups took the joiners in as learners; a learner's proposal is forwarded.
    await until(() => smallGroupsFollow(all(), ['n1', 'n2', 'n3'], ['n4', 'n5']), 'the metadata and lock groups to follow the members')
    expect(leaderConfig(all(), (host) => host.lockLog())).toMatchObject({ voters: ['n1', 'n2', 'n3'], learners: ['n4', 'n5'] })
    await asClient(hosts, 'n5', async (host) => await host.lockLog()!.propose(new Uint8Array([1])))

    // And back to three: n4 and n5 are drained while the writer goes on.
    expect((await hosts.get('n3')!.removeMember('n4')).ok).toBe(true)
    expect((await hosts.get('n1')!.removeMember('n5')).ok).toBe(true)
    expect(hosts.get('n1')!.rebalanceStatus().draining).toEqual(['n4', 'n5'])
    const founderHosts = (): ShardHost[] => ['n1', 'n2', 'n3'].map((id) => hosts.get(id)!)
    await until(() => settled(founderHosts(), ['n1', 'n2', 'n3']), 'the cluster to settle on three nodes', 45_000)
    await until(() => acknowledged.size >= acknowledgedWhileGrowing + 20, 'writes after shrinking')
    writing = false
    await writer
    await Promise.all(registers)

    // The removed nodes host nothing (they learned the last moves off them before leaving the
    // metadata group); the founders host every shard again.
    await until(() => n4.stats().shards === 0 && n5.stats().shards === 0, 'n4 and n5 to drop their last replicas')
    for (const host of founderHosts()) expect(host.stats().shards).toBe(16)
    await until(() => smallGroupsFollow(founderHosts(), ['n1', 'n2', 'n3'], []), 'the metadata and lock groups to drop n4 and n5')
    for (const id of ['n1', 'n2', 'n3']) await asClient(hosts, id, async (host) => await host.lockLog()!.propose(new Uint8Array([2])))

    // The register clients' history is linearizable across both membership changes.
    const history = recorder.history()
    expect(history.filter((op) => !op.failed && !op.indeterminate).length).toBeGreaterThan(50)
    const model = createKvModel()
    const check = checkHistory(history, { model })
    if (check.verdict !== 'linearizable') console.error(formatReport(check, model))
    expect(check.verdict).toBe('linearizable')

    // Every acknowledged write reads back, linearizably, from every remaining node.
    expect(acknowledged.size).toBeGreaterThan(120)
    for (const host of founderHosts()) {
      for (const [key, value] of acknowledged) {
        const record = await asClient(hosts, host.nodeId, async (target) => await target.get(key))
        expect(new TextDecoder().decode(record?.value), `${key} on ${host.nodeId}`).toBe(value)
      }
    }
  })

  it('drains a metadata voter: a learner is promoted first, and the metadata and lock groups keep working without it', async () => {
    running = cluster()
    const { hosts } = running
    const nodes = ['n1', 'n2', 'n3', 'n4'].map(nodeOf)
    for (const [i, node] of nodes.entries()) await running.start(node.id, { nodes, shardCount: 8 }, 3000 + i)
    const all = (): ShardHost[] => [...hosts.values()]
    await until(() => allLed(all(), 8) && all().every((host) => host.metadata()?.epoch === 1), 'a leader in every shard and the metadata bootstrapped', 20_000)
    for (let i = 0; i < 40; i++) await asClient(hosts, `n${1 + (i % 4)}`, async (host) => await host.write({ op: 'put', key: `k${i}`, value: new Uint8Array([i]) }))

    expect((await hosts.get('n2')!.removeMember('n1')).ok).toBe(true)
    const rest = (): ShardHost[] => ['n2', 'n3', 'n4'].map((id) => hosts.get(id)!)
    await until(() => settled(rest(), ['n2', 'n3', 'n4']), 'n1 to be drained and removed', 45_000)
    expect(hosts.get('n1')!.stats().shards).toBe(0)
    // The members forget it: no more node heartbeats to it, no liveness verdicts about it.
    await until(() => rest().every((host) => !host.stats().peers.includes('n1')), 'the members to forget n1')
    expect([...rest()[0]!.stats().peers].sort()).toEqual(['n3', 'n4'])
    await until(() => leaderConfig(rest(), metadataLog)?.voters.join() === 'n2,n3,n4', 'n4 to replace n1 as a metadata voter')
    await until(() => smallGroupsFollow(rest(), ['n2', 'n3', 'n4'], []), 'the lock group to replace n1 with n4 as well')

    // Without n1 at all, the metadata group still decides, and its decisions reach every member.
    await hosts.get('n1')!.stop()
    hosts.delete('n1')
    const result = await asClient(hosts, 'n3', async (host) => await host.addMember({ ...nodeOf('n2'), apiUrl: 'http://n2.elsewhere.test' }))
    expect(result.ok).toBe(true)
    await until(() => rest().every((host) => host.shardMap().nodes.find((node) => node.id === 'n2')?.apiUrl === 'http://n2.elsewhere.test'), 'the change to reach every member')
    await asClient(hosts, 'n4', async (host) => await host.lockLog()!.propose(new Uint8Array([3])))
    for (let i = 0; i < 40; i++) {
      const record = await asClient(hosts, 'n2', async (host) => await host.get(`k${i}`))
      expect([...(record?.value ?? [])]).toEqual([i])
    }
  })
  it('removes a node that never came up: moves toward it are retargeted and the cluster settles without it', async () => {
    running = cluster()
    const { hosts } = running
    const founders = ['n1', 'n2', 'n3'].map(nodeOf)
    for (const [i, node] of founders.entries()) await running.start(node.id, { nodes: founders, shardCount: 8 }, 4000 + i)
    const all = (): ShardHost[] => [...hosts.values()]
    await until(() => allLed(all(), 8) && all().every((host) => host.metadata()?.epoch === 1), 'a leader in every shard and the metadata bootstrapped', 20_000)
    for (let i = 0; i < 20; i++) await asClient(hosts, `n${1 + (i % 3)}`, async (host) => await host.write({ op: 'put', key: `k${i}`, value: new Uint8Array([i]) }))

    // n4 is admitted but never started: moves toward it start and cannot finish.
    expect((await hosts.get('n1')!.addMember(nodeOf('n4'))).ok).toBe(true)
    await until(() => hosts.get('n1')!.metadata()!.moves.some((move) => move.replicas.includes('n4')), 'a move toward n4')
    expect((await hosts.get('n2')!.removeMember('n4')).ok).toBe(true)
    await until(() => settled(all(), ['n1', 'n2', 'n3']), 'the cluster to settle without n4', 30_000)
    await until(() => smallGroupsFollow(all(), ['n1', 'n2', 'n3'], []), 'the metadata and lock groups to drop n4')
    expect(hosts.get('n1')!.metadata()!.placement).toEqual(hosts.get('n1')!.placement())
    for (let i = 0; i < 20; i++) {
      const record = await asClient(hosts, 'n3', async (host) => await host.get(`k${i}`))
      expect([...(record?.value ?? [])]).toEqual([i])
    }
  })
})

function n1Placement (hosts: Map<string, ShardHost>): ReturnType<ShardHost['placement']> {
  return hosts.get('n1')!.metadata()!.placement
}

function metadataLog (host: ShardHost): { isLeader(): boolean, status(): { config: ClusterConfig } } | undefined {
  return host.metadataLog()
}
