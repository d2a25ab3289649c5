import type { Clock, ClusterConfig, LogStorage, NodeId, SnapshotStorage } from '@synod/interfaces'
import { createSimCluster, createSimulation, uniform } from '@synod/sim'
import type { SimCluster, SimNetworkOptions, SimTransport, Simulation } from '@synod/sim'
import { createRaftNode } from '../../src/index.js'
import type { RaftNode, RaftNodeInit, RaftWireMessage } from '../../src/index.js'
import { KvStateMachine } from './kv.js'
import type { KvResult } from './kv.js'

export interface RaftApp {
  node: RaftNode<KvResult>
  kv: KvStateMachine
  /** The incarnation's endpoint, to see which peers the node keeps. */
  transport: SimTransport<RaftWireMessage>
}

export interface SimRaftOptions {
  seed?: number
  ids?: NodeId[]
  /** Nodes that boot without a bootstrap configuration (they join by a membership change). */
  joiners?: NodeId[]
  network?: SimNetworkOptions
  init?: Partial<RaftNodeInit>
  /** Wraps a node's snapshot storage (to observe transfers). */
  wrapSnapshots?: (id: NodeId, storage: SnapshotStorage) => SnapshotStorage
  /** Wraps a node's log storage (to delay or hold its writes). */
  wrapLog?: (id: NodeId, log: LogStorage, clock: Clock) => LogStorage
}

export function bootstrapConfig (ids: NodeId[]): ClusterConfig {
  return { voters: [...ids], learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
}

/** A Raft cluster on the deterministic simulator: virtual time, simulated network and disks. */
export function simRaft (options: SimRaftOptions = {}): { sim: Simulation, cluster: SimCluster<RaftApp, RaftWireMessage> } {
  const ids = options.ids ?? ['n1', 'n2', 'n3']
  const joiners = new Set(options.joiners ?? [])
  const founders = ids.filter((id) => !joiners.has(id))
  const sim = createSimulation({ seed: options.seed ?? 1 })
  const cluster = createSimCluster<RaftApp, RaftWireMessage>(sim, {
    nodes: ids,
    network: options.network ?? { latency: uniform(1, 5) },
    boot: async (ctx) => {
      const kv = new KvStateMachine()
      const node = createRaftNode<KvResult>({
        id: ctx.id,
        bootstrap: joiners.has(ctx.id) ? undefined : bootstrapConfig(founders),
        tickMs: 10,
        ...options.init
      }, {
        transport: ctx.transport,
        log: options.wrapLog?.(ctx.id, ctx.disk.log(), ctx.clock) ?? ctx.disk.log(),
        hardState: ctx.disk.hardState(),
        snapshots: options.wrapSnapshots?.(ctx.id, ctx.disk.snapshots()) ?? ctx.disk.snapshots(),
        stateMachine: kv,
        clock: ctx.clock,
        random: ctx.random
      })
      await node.start()
      return { node, kv, transport: ctx.transport }
    },
    shutdown: async (app) => { await app.node.stop() }
  })
  return { sim, cluster }
}

export function leaderOf (cluster: SimCluster<RaftApp, RaftWireMessage>): RaftApp | undefined {
  return cluster.nodes().map((n) => n.app).find((app) => app?.node.isLeader() === true)
}

export async function waitForLeader (sim: Simulation, cluster: SimCluster<RaftApp, RaftWireMessage>, timeout = 10_000): Promise<RaftApp> {
  await sim.runUntil(() => leaderOf(cluster) !== undefined, { timeout })
  const leader = leaderOf(cluster)
  if (leader === undefined) throw new Error('no leader')
  return leader
}

export function app (cluster: SimCluster<RaftApp, RaftWireMessage>, id: NodeId): RaftApp {
  const found = cluster.nodes().find((n) => n.id === id)?.app
  if (found === undefined) throw new Error(`${id} is not running`)
  return found
}

/** Runs the simulation until `promise` settles and returns its outcome. */
export async function settle<T> (sim: Simulation, promise: Promise<T>, timeout = 30_000): Promise<T> {
  let done = false
  const tracked = promise.finally(() => { done = true })
  tracked.catch(() => {})
  await sim.runUntil(() => done, { timeout })
  return await tracked
}
