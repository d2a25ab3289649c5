import { createSimCluster, createSimulation } from '@synod/sim'
import type { SimCluster } from '@synod/sim'
import { createRaftNode } from '@synod/raft'
import type { RaftNode, RaftWireMessage } from '@synod/raft'
import { CounterStateMachine } from './support.js'

/**
 * Election time after leader loss, on the simulator (virtual time, 1-5 ms links) with the default
 * timeouts (100 ms ticks, election timeout 10 ticks, pre-vote and check-quorum on): the leader
 * loses power, and the clock runs until another node leads.
 */
export async function benchElections (crashes: number): Promise<number[]> {
  const ids = ['n1', 'n2', 'n3']
  const sim = createSimulation({ seed: 2026 })
  const cluster: SimCluster<RaftNode<number>, RaftWireMessage> = createSimCluster<RaftNode<number>, RaftWireMessage>(sim, {
    nodes: ids,
    network: { traceMessages: false },
    boot: async (ctx) => {
      const node = createRaftNode<number>({
        id: ctx.id,
        bootstrap: { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((x) => [x, x])) }
      }, { transport: ctx.transport, log: ctx.disk.log(), hardState: ctx.disk.hardState(), snapshots: ctx.disk.snapshots(), stateMachine: new CounterStateMachine(), clock: ctx.clock, random: ctx.random })
      await node.start()
      return node
    }
  })
  void cluster.startAll()
  const leader = (): RaftNode<number> | undefined => cluster.running().map((n) => n.app).find((app) => app?.isLeader() === true)
  const times: number[] = []
  for (let i = 0; i < crashes; i++) {
    await sim.runUntil(() => {
      const l = leader()
      return l !== undefined && cluster.running().length === ids.length && cluster.running().every((n) => n.app?.status().leader === l.id)
    }, { timeout: 60_000 })
    const old = leader()
    if (old === undefined) throw new Error('no leader')
    // Let the followers hear a heartbeat, as in a steady cluster.
    await sim.runFor(150)
    const crashed = cluster.node(old.id)
    crashed.crash({ powerLoss: true })
    const t0 = sim.now()
    await sim.runUntil(() => leader() !== undefined, { timeout: 60_000 })
    times.push(sim.now() - t0)
    void crashed.start()
  }
  return times
}
