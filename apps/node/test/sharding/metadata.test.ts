import { afterEach, describe, expect, it } from 'vitest'
import { createMetadataStateMachine, encodeMetadataCommand, type MetadataCommand } from '../../src/sharding/metadata.js'
import { fastTiming, startShardCluster, until, type ShardCluster } from './support.js'

const nodes = ['a', 'b', 'c'].map((id) => ({ id, address: `memory://${id}` }))
let index = 0
const entry = (command: MetadataCommand): { index: number, term: number, data: Uint8Array } => ({ index: ++index, term: 1, data: encodeMetadataCommand(command) })

describe('metadata state machine', () => {
  it('keeps the first bootstrap, applies conditional placement changes, and round-trips a snapshot', async () => {
    const machine = createMetadataStateMachine()
    expect(machine.apply(entry({ op: 'set-nodes', nodes }))).toEqual({ ok: false, epoch: 0 })
    expect(machine.apply(entry({ op: 'bootstrap', nodes, shardCount: 4, replicationFactor: 3 }))).toEqual({ ok: true, epoch: 1 })
    expect(machine.apply(entry({ op: 'bootstrap', nodes: nodes.slice(0, 1), shardCount: 9, replicationFactor: 1 }))).toEqual({ ok: false, epoch: 1 })
    expect(machine.state().placement).toHaveLength(4)
    const moved = { shard: 2, replicas: ['c', 'b', 'a'], preferredLeader: 'c' }
    expect(machine.apply(entry({ op: 'set-shard-placement', placement: moved, expectedEpoch: 7 }))).toEqual({ ok: false, epoch: 1 })
    expect(machine.apply(entry({ op: 'set-shard-placement', placement: moved, expectedEpoch: 1 }))).toEqual({ ok: true, epoch: 2 })
    expect(machine.apply(entry({ op: 'set-shard-placement', placement: { ...moved, shard: 4 } }))).toEqual({ ok: false, epoch: 2 })
    expect(machine.state().placement[2]).toEqual(moved)

    const copy = createMetadataStateMachine()
    await copy.restore(machine.snapshot(), { index, term: 1 })
    expect(copy.state()).toEqual(machine.state())
    expect(() => machine.apply({ index: ++index, term: 1, data: new Uint8Array([0xc1]) })).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
  })
})

let cluster: ShardCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

describe('metadata group', () => {
  it('gives every node, learners included, the same placement, and carries a change to all of them', async () => {
    // Placement changed by hand below: the metadata leader must not rebalance it back.
    cluster = await startShardCluster(['n1', 'n2', 'n3', 'n4'], { ...fastTiming, shardCount: 6, autoRebalance: false })
    const hosts = cluster.hosts
    await until(() => hosts.every((host) => host.metadata()?.epoch === 1), 'the bootstrap to reach every node')
    for (const host of hosts) expect(host.metadata()!.placement).toEqual(hosts[0]!.placement())
    // n4 is a learner of the metadata group: its proposal is forwarded to the leader.
    const current = hosts[0]!.placement()[5]!
    const changed = { ...current, preferredLeader: current.replicas[current.replicas.length - 1]! }
    expect(changed.preferredLeader).not.toBe(current.preferredLeader)
    const result = await hosts[3]!.proposeMetadata({ op: 'set-shard-placement', placement: changed, expectedEpoch: 1 })
    expect(result).toEqual({ ok: true, epoch: 2 })
    await until(() => hosts.every((host) => host.placement()[5]?.preferredLeader === changed.preferredLeader), 'every node to route by the new placement')
    // Idle again afterwards: the metadata group quiesces like the shards.
    await until(() => hosts.every((host) => host.stats().awake === 0 && host.stats().metadataAwake === false), 'every replica to quiesce')
  })
})
