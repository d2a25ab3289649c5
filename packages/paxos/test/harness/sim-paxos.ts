import type { ClusterConfig, NodeId } from '@synod/interfaces'
import { createSimCluster, createSimulation, uniform } from '@synod/sim'
import type { SimCluster, SimNetworkOptions, Simulation } from '@synod/sim'
import { createPaxosNode } from '../../src/index.js'
import type { PaxosHardState, PaxosNode, PaxosNodeInit, PaxosWireMessage } from '../../src/index.js'
import { KvStateMachine } from './kv.js'
import type { KvResult } from './kv.js'

export interface PaxosApp {
  node: PaxosNode<KvResult>
  kv: KvStateMachine
}

export interface SimPaxosOptions {
  seed?: number
  ids?: NodeId[]
  network?: SimNetworkOptions
  init?: Partial<PaxosNodeInit>
}

export function bootstrapConfig (ids: NodeId[]): ClusterConfig {
  return { voters: [...ids], learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
}

export interface SimPaxos {
  sim: Simulation
  cluster: SimCluster<PaxosApp, PaxosWireMessage>
  /** Replaces a node's disk with an empty one (takes effect at its next start). */
  replaceDisk(id: NodeId): void
  /** Boot without a bootstrap configuration from now on (what an operator does for a replaced disk). */
  noBootstrap: Set<NodeId>
}

/** A Paxos cluster on the deterministic simulator: virtual time, simulated network and disks. */
export function simPaxos (options: SimPaxosOptions = {}): SimPaxos {
  const ids = options.ids ?? ['n1', 'n2', 'n3']
  const sim = createSimulation({ seed: options.seed ?? 1 })
  const diskGeneration = new Map<NodeId, number>()
  const noBootstrap = new Set<NodeId>()
  const cluster = createSimCluster<PaxosApp, PaxosWireMessage>(sim, {
    nodes: ids,
    network: options.network ?? { latency: uniform(1, 5) },
    boot: async (ctx) => {
      const kv = new KvStateMachine()
      const gen = diskGeneration.get(ctx.id) ?? 0
      const node = createPaxosNode<KvResult>({
        id: ctx.id,
        bootstrap: noBootstrap.has(ctx.id) ? undefined : bootstrapConfig(ids),
        tickMs: 10,
        activationWindow: 16,
        ...options.init
      }, {
        transport: ctx.transport,
        log: ctx.disk.log(`log-${gen}`),
        hardState: ctx.disk.hardState<PaxosHardState>(`hard-state-${gen}`),
        snapshots: ctx.disk.snapshots(`snapshots-${gen}`),
        stateMachine: kv,
        clock: ctx.clock,
        random: ctx.random
      })
      await node.start()
      return { node, kv }
    },
    shutdown: async (app) => { await app.node.stop() }
  })
  return {
    sim,
    cluster,
    noBootstrap,
    replaceDisk: (id) => { diskGeneration.set(id, (diskGeneration.get(id) ?? 0) + 1) }
  }
}

export function leaderOf (cluster: SimCluster<PaxosApp, PaxosWireMessage>): PaxosApp | undefined {
  return cluster.nodes().map((n) => n.app).find((app) => app?.node.isLeader() === true)
}

export async function waitForLeader (sim: Simulation, cluster: SimCluster<PaxosApp, PaxosWireMessage>, timeout = 10_000): Promise<PaxosApp> {
  await sim.runUntil(() => leaderOf(cluster) !== undefined, { timeout })
  const leader = leaderOf(cluster)
  if (leader === undefined) throw new Error('no leader')
  return leader
}

export function app (cluster: SimCluster<PaxosApp, PaxosWireMessage>, id: NodeId): PaxosApp {
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
