import { describe, expect, it } from 'vitest'
import { encodeKv } from '../harness/kv.js'
import { uniform } from '@synod/sim'
import { app, leaderOf, settle, simRaft, waitForLeader } from '../harness/sim-raft.js'

const put = (key: string, value: string): Uint8Array => encodeKv({ op: 'put', key, value })

describe('createRaftNode on the simulator', () => {
  it('elects a leader; propose resolves with the state machine result once applied everywhere', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const result = await settle(sim, leader.node.propose(put('x', '1')))
    expect(result.result).toEqual({ ok: true, value: '1' })
    expect(result.index).toBe(2)
    const cas = await settle(sim, leader.node.propose(encodeKv({ op: 'cas', key: 'x', expected: '0', value: '2' })))
    expect(cas.result).toEqual({ ok: false, value: '1' })
    await sim.runFor(200)
    for (const node of cluster.nodes()) expect(node.app?.kv.get('x')).toBe('1')
    expect(leader.node.status()).toMatchObject({ role: 'leader', commitIndex: 3, appliedIndex: 3 })
  })

  it('batches many concurrent proposals into few log appends and resolves each with its own index', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const results = await settle(sim, Promise.all(Array.from({ length: 200 }, (_, i) => leader.node.propose(put(`k${i}`, `${i}`)))))
    const indexes = results.map((r) => r.index)
    expect(new Set(indexes).size).toBe(200)
    expect(results.every((r, i) => r.result.value === `${i}`)).toBe(true)
    expect(leader.node.status().lastIndex).toBe(201)
    expect(leader.node.metrics().proposals).toBe(200)
  })

  it('applies an entry committed while the leader writes the next batch, without waiting for that write', async () => {
    // Followers write slowly, so their acknowledgement of A reaches the leader after the leader
    // wrote A and started writing B; the leader's write of B is held until the end.
    const control = { leader: undefined as string | undefined, holdIndex: 0, followerDelayMs: 0, afterLeaderAppend: (_last: number): void => {} }
    let releaseHold = (): void => {}
    const hold = new Promise<void>((resolve) => { releaseHold = resolve })
    const { sim, cluster } = simRaft({
      wrapLog: (id, log, clock) => {
        let chain = Promise.resolve()
        const inOrder = <T>(work: () => Promise<T>): Promise<T> => {
          const result = chain.then(work)
          chain = result.then(() => undefined, () => undefined)
          return result
        }
        return {
          start: async () => { await log.start() },
          stop: async () => { await chain; await log.stop() },
          firstIndex: () => log.firstIndex(),
          lastIndex: () => log.lastIndex(),
          term: (index) => log.term(index),
          entries: async (from, to, options) => await log.entries(from, to, options),
          truncateSuffix: async (from, options) => { await inOrder(async () => { await log.truncateSuffix(from, options) }) },
          compactPrefix: async (upTo, term, options) => { await inOrder(async () => { await log.compactPrefix(upTo, term, options) }) },
          append: async (entries, options) => {
            await inOrder(async () => {
              if (id !== control.leader && control.followerDelayMs > 0) await new Promise<void>((resolve) => { clock.setTimeout(() => { resolve() }, control.followerDelayMs) })
              if (id === control.leader && entries.some((entry) => entry.index === control.holdIndex)) await hold
              await log.append(entries, options)
              if (id === control.leader) control.afterLeaderAppend(entries.at(-1)?.index ?? 0)
            })
          }
        }
      }
    })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await settle(sim, leader.node.propose(put('warm', 'up')))
    const a = leader.node.status().lastIndex + 1
    control.leader = leader.node.id
    control.holdIndex = a + 1
    control.followerDelayMs = 20
    let bResult: Promise<unknown> | undefined
    control.afterLeaderAppend = (last) => {
      if (last === a && bResult === undefined) bResult = leader.node.propose(put('b', '2'))
    }
    const aResult = await settle(sim, leader.node.propose(put('a', '1')))
    expect(aResult.index).toBe(a)
    expect(bResult).toBeDefined()
    expect(leader.node.status().persistedIndex).toBe(a)
    releaseHold()
    const b = await settle(sim, bResult as Promise<{ index: number }>)
    expect(b.index).toBe(a + 1)
  })

  it('a follower forwards proposals to the leader and returns the result', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const follower = cluster.nodes().map((n) => n.app).find((a) => a !== undefined && a !== leader)
    if (follower === undefined) throw new Error('no follower')
    const result = await settle(sim, follower.node.propose(put('y', 'from-follower')))
    expect(result.result).toEqual({ ok: true, value: 'from-follower' })
    expect(follower.kv.get('y')).toBe('from-follower')
  })

  it('without forwarding a follower rejects with ERR_NOT_LEADER and names the leader', async () => {
    const { sim, cluster } = simRaft({ init: { forwardProposals: false } })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await sim.runFor(100)
    const follower = cluster.nodes().map((n) => n.app).find((a) => a !== undefined && a !== leader)
    await expect(settle(sim, follower!.node.propose(put('y', '1')))).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: leader.node.id })
    await expect(follower!.node.readBarrier()).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: leader.node.id })
  })

  it('readBarrier (ReadIndex and lease) returns an index the local state has applied, on leader and follower', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const written = await settle(sim, leader.node.propose(put('r', 'v')))
    for (const mode of ['read-index', 'lease'] as const) {
      for (const node of cluster.nodes()) {
        const barrier = await settle(sim, node.app!.node.readBarrier({ mode }))
        expect(barrier.index).toBeGreaterThanOrEqual(written.index)
        expect(node.app!.node.status().appliedIndex).toBeGreaterThanOrEqual(barrier.index)
        expect(node.app!.kv.get('r')).toBe('v')
      }
    }
  })

  it('lease reads are refused without check-quorum', async () => {
    const { sim, cluster } = simRaft({ init: { checkQuorum: false } })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await expect(leader.node.readBarrier({ mode: 'lease' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('a proposal without a quorum times out as indeterminate', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    cluster.network.isolate(leader.node.id)
    await expect(settle(sim, leader.node.propose(put('z', '1'), { timeoutMs: 100 }))).rejects.toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: true })
  })

  it('transferLeadership resolves once the target leads', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await settle(sim, leader.node.propose(put('a', '1')))
    const target = cluster.ids.find((id) => id !== leader.node.id)!
    await settle(sim, leader.node.transferLeadership(target))
    expect(app(cluster, target).node.isLeader()).toBe(true)
    expect(leader.node.isLeader()).toBe(false)
  })

  it('adds a learner, promotes it, and completes a joint change; unsafe changes are rejected', async () => {
    const { sim, cluster } = simRaft({ ids: ['n1', 'n2', 'n3', 'n4', 'n5'], joiners: ['n4', 'n5'] })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await settle(sim, leader.node.propose(put('m', '1')))
    const learnerConfig = await settle(sim, leader.node.changeMembership({ type: 'add-learner', id: 'n4', address: 'n4' }))
    expect(learnerConfig.learners).toEqual(['n4'])
    await expect(leader.node.changeMembership({ type: 'promote', id: 'n5' })).rejects.toMatchObject({ code: 'ERR_INVALID_MEMBERSHIP' })
    const promoted = await settle(sim, leader.node.changeMembership({ type: 'promote', id: 'n4' }))
    expect(promoted.voters).toEqual(['n1', 'n2', 'n3', 'n4'])
    const current = leaderOf(cluster)!
    const joint = await settle(sim, current.node.changeMembership({ type: 'joint', voters: [current.node.id, 'n4', 'n5'], learners: [], addresses: { n5: 'n5' } }))
    expect(joint.outgoingVoters).toBeUndefined()
    expect([...joint.voters].sort()).toEqual([current.node.id, 'n4', 'n5'].sort())
    await sim.runFor(300)
    expect(app(cluster, 'n5').kv.get('m')).toBe('1')
    expect(app(cluster, 'n5').node.status().config.voters).toEqual(joint.voters)
  })

  it('forgets a removed member one election timeout after its removal commits, and dials it again once re-added', async () => {
    const { sim, cluster } = simRaft({ seed: 5 })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await settle(sim, leader.node.propose(put('before', '1')))
    const removed = cluster.nodes().map((n) => n.app!).find((a) => a !== leader)!
    const removedId = removed.node.id
    const stayers = cluster.nodes().map((n) => n.app!).filter((a) => a !== removed)
    const config = await settle(sim, leader.node.changeMembership({ type: 'remove', id: removedId }))
    expect(config.voters).not.toContain(removedId)
    // Still known right after the commit: the append that carries the new commit index may be queued for it.
    expect(leader.transport.peers()).toContain(removedId)
    await sim.runFor(3 * 10 * 10)
    for (const stayer of stayers) {
      expect(stayer.node.status().config.voters).not.toContain(removedId)
      expect(stayer.transport.peers()).not.toContain(removedId)
      expect(stayer.transport.peers()).toHaveLength(1)
    }
    // The removed node heard that its removal committed, and keeps its own peers.
    expect(removed.node.status().config.voters).toEqual(config.voters)
    expect(removed.transport.peers()).toHaveLength(2)
    // A later configuration that names it again brings it back.
    const current = leaderOf(cluster)!
    const readded = await settle(sim, current.node.changeMembership({ type: 'add-learner', id: removedId, address: removedId }))
    expect(readded.learners).toEqual([removedId])
    for (const stayer of stayers) await sim.runUntil(() => stayer.transport.peers().includes(removedId), { timeout: 2000 })
    await settle(sim, current.node.propose(put('after', '2')))
    await sim.runUntil(() => removed.kv.get('after') === '2', { timeout: 5000 })
    expect(removed.kv.get('before')).toBe('1')
  })

  it('survives a power loss of every node: acknowledged writes are still there after restart', async () => {
    const { sim, cluster } = simRaft({ seed: 11 })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 5; i++) await settle(sim, leader.node.propose(put(`d${i}`, `${i}`)))
    // Writes in flight at the crash may be lost; acknowledged ones may not.
    void leader.node.propose(put('unacked', 'x')).catch(() => {})
    for (const node of cluster.nodes()) node.crash({ powerLoss: true, torn: true })
    void cluster.startAll()
    const next = await waitForLeader(sim, cluster)
    const read = await settle(sim, next.node.propose(encodeKv({ op: 'get', key: 'd4' })))
    expect(read.result.value).toBe('4')
    await sim.runFor(200)
    for (const node of cluster.nodes()) {
      for (let i = 0; i < 5; i++) expect(node.app?.kv.get(`d${i}`)).toBe(`${i}`)
    }
  })

  it('takes snapshots, compacts the log, and catches up a new node with a chunked snapshot', async () => {
    const { sim, cluster } = simRaft({
      ids: ['n1', 'n2', 'n3', 'n4'],
      joiners: ['n4'],
      init: { snapshotEveryEntries: 50, compactionLagEntries: 10, snapshotChunkBytes: 100 }
    })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 120; i++) void leader.node.propose(put(`s${i}`, `${i}`))
    await settle(sim, leader.node.propose(put('last', 'yes')))
    await sim.runFor(100)
    const status = leader.node.status()
    expect(status.firstIndex).toBeGreaterThan(50)
    expect(leader.node.metrics().snapshotsTaken).toBeGreaterThanOrEqual(1)
    await settle(sim, leader.node.changeMembership({ type: 'add-learner', id: 'n4', address: 'n4' }))
    await sim.runUntil(() => app(cluster, 'n4').kv.get('last') === 'yes', { timeout: 5000 })
    await sim.runFor(200)
    const n4 = app(cluster, 'n4')
    expect(n4.kv.get('s77')).toBe('77')
    expect(n4.node.metrics().snapshotsInstalled).toBe(1)
    expect(leader.node.metrics().snapshotsSent).toBe(1)
    expect(n4.node.status().firstIndex).toBeGreaterThan(1)
    expect(n4.node.status().config.learners).toEqual(['n4'])
  })

  it('emits role, leader, applied and membership events', async () => {
    const { sim, cluster } = simRaft({ ids: ['n1'] })
    const seen: string[] = []
    void cluster.startAll()
    await sim.runUntil(() => cluster.nodes()[0]?.app !== undefined)
    const node = app(cluster, 'n1').node
    node.addEventListener('role', (e) => seen.push(`role:${e.detail.role}`))
    node.addEventListener('applied', (e) => seen.push(`applied:${e.detail.index}`))
    node.addEventListener('snapshot', (e) => seen.push(`snapshot:${e.detail.meta.index}`))
    await sim.runUntil(() => node.isLeader())
    await settle(sim, node.propose(put('e', '1')))
    await settle(sim, node.snapshot())
    expect(seen).toContain('applied:2')
    expect(seen).toContain('snapshot:2')
  })

  it('stop() rejects pending operations with ERR_STOPPED', async () => {
    const { sim, cluster } = simRaft()
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    cluster.network.isolate(leader.node.id)
    const pending = leader.node.propose(put('p', '1'))
    pending.catch(() => {})
    await sim.runFor(5)
    await settle(sim, leader.node.stop())
    await expect(pending).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await expect(leader.node.propose(put('p', '2'))).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
  })
})

describe('InstallSnapshot transfer', () => {
  it('resumes an interrupted transfer where the receiver stopped instead of starting over', async () => {
    let written = 0
    let begins = 0
    const { sim, cluster } = simRaft({
      ids: ['n1', 'n2', 'n3', 'n4'],
      joiners: ['n4'],
      init: { snapshotEveryEntries: 50, compactionLagEntries: 5, snapshotChunkBytes: 100, snapshotChunkTimeoutMs: 100 },
      wrapSnapshots: (id, storage) => id !== 'n4'
        ? storage
        : {
            ...storage,
            start: async () => { await storage.start() },
            stop: async () => { await storage.stop() },
            latest: async (o) => await storage.latest(o),
            read: (o) => storage.read(o),
            prune: async (keep, o) => { await storage.prune(keep, o) },
            begin: async (meta, o) => {
              begins++
              const writer = await storage.begin(meta, o)
              return {
                meta: writer.meta,
                get offset () { return writer.offset },
                write: async (chunk, wo) => { written += chunk.byteLength; await writer.write(chunk, wo) },
                commit: async (co) => await writer.commit(co),
                abort: async () => { await writer.abort() }
              }
            }
          }
    })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    for (let i = 0; i < 80; i++) void leader.node.propose(put(`key-${i}`, `value-${i}`))
    await settle(sim, leader.node.propose(put('last', 'yes')))
    await sim.runFor(100)
    const snapshot = await settle(sim, leader.node.snapshot())
    expect(snapshot.size).toBeGreaterThan(1000)
    void leader.node.changeMembership({ type: 'add-learner', id: 'n4', address: 'n4' })
    // Cut the learner off in the middle of the transfer.
    await sim.runUntil(() => written >= 300, { timeout: 5000 })
    cluster.network.isolate('n4')
    const atCut = written
    expect(atCut).toBeLessThan(snapshot.size)
    await sim.runFor(1000)
    cluster.network.heal()
    await sim.runUntil(() => app(cluster, 'n4').kv.get('last') === 'yes', { timeout: 10_000 })
    expect(app(cluster, 'n4').kv.get('key-42')).toBe('value-42')
    // Every byte was written once: the second attempt continued at the receiver's offset.
    expect(written).toBe(snapshot.size)
    expect(begins).toBe(1)
  })
})

describe('compaction policy', () => {
  it('snapshots by applied bytes when entries are large, independently of the entry count', async () => {
    const { sim, cluster } = simRaft({ ids: ['n1'], init: { snapshotEveryEntries: 0, snapshotEveryBytes: 10_000, compactionLagEntries: 2 } })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    const big = 'x'.repeat(1000)
    for (let i = 0; i < 9; i++) await settle(sim, leader.node.propose(put(`b${i}`, big)))
    expect(leader.node.metrics().snapshotsTaken).toBe(0)
    for (let i = 9; i < 12; i++) await settle(sim, leader.node.propose(put(`b${i}`, big)))
    expect(leader.node.metrics().snapshotsTaken).toBe(1)
    expect(leader.node.status().firstIndex).toBeGreaterThan(5)
  })
})

describe('proposal forwarding over a network that duplicates messages', () => {
  it('appends each forwarded command once even when every message arrives twice', async () => {
    const { sim, cluster } = simRaft({ network: { latency: uniform(1, 5), duplicate: 1 } })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await sim.runFor(100)
    const follower = cluster.nodes().map((n) => n.app).find((a) => a !== undefined && a !== leader)!
    const results = await settle(sim, Promise.all(Array.from({ length: 10 }, (_, i) => follower.node.propose(put(`f${i}`, `${i}`)))))
    expect(results.map((r) => r.result.value)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`))
    await sim.runFor(200)
    // The leader applied exactly ten commands: no duplicate reached the log.
    expect(leader.kv.applied).toHaveLength(10)
  })
})

describe('lazy commit propagation', () => {
  it('a follower\'s forwarded proposals and reads complete without waiting for heartbeats', async () => {
    // Heartbeats every 90 ms; in lazy mode nothing else carries a bare commit index, unless the
    // leader knows the follower waits for it (a forwarded proposal, a read it answered).
    const heartbeatMs = 90
    const { sim, cluster } = simRaft({ init: { commitPropagation: 'lazy', tickMs: 10, heartbeatTicks: 9, electionTicks: 20 } })
    void cluster.startAll()
    const leader = await waitForLeader(sim, cluster)
    await sim.runFor(200)
    const follower = cluster.nodes().map((n) => n.app).find((a) => a !== undefined && a !== leader)!
    const started = sim.now()
    for (let i = 0; i < 3; i++) {
      const result = await settle(sim, follower.node.propose(put('k', `${i}`)))
      expect(result.result.value).toBe(`${i}`)
    }
    await settle(sim, leader.node.propose(put('k', 'from-leader')))
    for (const mode of ['read-index', 'lease'] as const) {
      await settle(sim, follower.node.readBarrier({ mode }))
      expect(follower.kv.get('k')).toBe('from-leader')
    }
    // Three proposals and two reads in a row: waiting for heartbeats would take several intervals.
    expect(sim.now() - started).toBeLessThan(heartbeatMs)
  })
})
