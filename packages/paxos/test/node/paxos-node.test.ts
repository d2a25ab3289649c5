import { describe, expect, it } from 'vitest'
import { encodeKv } from '../harness/kv.js'
import { app, settle, simPaxos, waitForLeader } from '../harness/sim-paxos.js'

const put = (key: string, value: string): Uint8Array => encodeKv({ op: 'put', key, value })

describe('createPaxosNode on the simulator', () => {
  it('elects a leader; propose resolves with the state machine result once applied', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const result = await settle(sim, leader.node.propose(put('x', '1')))
    expect(result.result).toEqual({ ok: true, value: '1' })
    expect(result.index).toBe(2)
    const cas = await settle(sim, leader.node.propose(encodeKv({ op: 'cas', key: 'x', expected: '0', value: '2' })))
    expect(cas.result).toEqual({ ok: false, value: '1' })
    await sim.runFor(200)
    for (const node of cluster.nodes()) expect(node.app?.kv.get('x')).toBe('1')
  })

  it('batches many concurrent proposals and resolves each with its own slot', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const results = await settle(sim, Promise.all(Array.from({ length: 300 }, (_, i) => leader.node.propose(put(`k${i}`, `${i}`)))))
    expect(new Set(results.map((r) => r.index)).size).toBe(300)
    expect(results.every((r, i) => r.result.value === `${i}`)).toBe(true)
  })

  it('a follower forwards proposals and reads to the leader', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const follower = cluster.nodes().map((n) => n.app).find((a) => a !== undefined && a !== leader)!
    const result = await settle(sim, follower.node.propose(put('y', 'from-follower')))
    expect(result.result).toEqual({ ok: true, value: 'from-follower' })
    for (const mode of ['read-index', 'lease'] as const) {
      const barrier = await settle(sim, follower.node.readBarrier({ mode }))
      expect(barrier.index).toBeGreaterThanOrEqual(result.index)
      expect(follower.kv.get('y')).toBe('from-follower')
    }
  })

  it('snapshots, compacts, and brings a long-stopped replica back by snapshot transfer', async () => {
    const { sim, cluster } = simPaxos({ init: { snapshotEveryEntries: 50, compactionLagEntries: 5, snapshotChunkBytes: 64, snapshotChunkTimeoutMs: 200 } })
    void cluster.startAll()
    let leader = await waitForLeader(sim, cluster)
    const lagging = cluster.nodes().find((n) => n.app !== leader)!
    await settle(sim, lagging.stop())
    leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 120; i++) await settle(sim, leader.node.propose(put(`k${i % 7}`, `${i}`)))
    await sim.runFor(300)
    expect(leader.node.status().firstIndex).toBeGreaterThan(50)
    await settle(sim, lagging.start())
    await sim.runFor(1500)
    const back = app(cluster, lagging.id)
    expect(back.node.metrics().snapshotsInstalled).toBeGreaterThanOrEqual(1)
    for (let k = 0; k < 7; k++) expect(back.kv.get(`k${k}`)).toBe(leader.kv.get(`k${k}`))
  })

  it('a replica whose disk was replaced recovers without voting, then votes again', async () => {
    const harness = simPaxos()
    const { sim, cluster } = harness
    void cluster.startAll()
    let leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 10; i++) await settle(sim, leader.node.propose(put('k', `${i}`)))
    const victim = cluster.nodes().find((n) => n.app !== leader)!
    await settle(sim, victim.stop())
    harness.replaceDisk(victim.id)
    harness.noBootstrap.add(victim.id)
    await settle(sim, victim.start())
    expect(app(cluster, victim.id).node.status().recovering).toBe(true)
    leader = await waitForLeader(sim, cluster)
    await settle(sim, leader.node.propose(put('k', 'after')))
    await sim.runFor(500)
    const status = app(cluster, victim.id).node.status()
    expect(status.recovering).toBe(false)
    expect(app(cluster, victim.id).kv.get('k')).toBe('after')
  })

  it('restarts from its own disk and replays nothing twice', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 20; i++) await settle(sim, leader.node.propose(put('k', `${i}`)))
    await sim.runFor(200)
    const node = cluster.nodes().find((n) => n.app !== leader)!
    await settle(sim, node.restart())
    await sim.runFor(500)
    expect(app(cluster, node.id).kv.get('k')).toBe('19')
    const applied = app(cluster, node.id).kv.applied
    expect(new Set(applied).size).toBe(applied.length)
  })

  it('changes membership through the log and resolves once the change is in force', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const other = cluster.nodes().find((n) => n.app !== leader)!.id
    const config = await settle(sim, leader.node.changeMembership({ type: 'remove', id: other }))
    expect(config.voters).not.toContain(other)
    expect(leader.node.status().config.voters).not.toContain(other)
    const result = await settle(sim, leader.node.propose(put('z', '1')))
    expect(result.result.ok).toBe(true)
  })

  it('transfers leadership', async () => {
    const { sim, cluster } = simPaxos()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const target = cluster.nodes().find((n) => n.app !== leader)!.id
    await settle(sim, leader.node.transferLeadership(target))
    expect(app(cluster, target).node.isLeader()).toBe(true)
  })
})
