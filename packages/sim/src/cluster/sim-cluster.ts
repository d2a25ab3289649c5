import { NotFoundError, type NodeId } from '@synod/interfaces'
import type { Simulation } from '../core/simulation.js'
import { createSimNetwork, type SimNetwork, type SimNetworkOptions } from '../network/sim-network.js'
import { createSimNode, type SimNode, type SimNodeOptions } from './sim-node.js'

/** Options for `createSimCluster`. */
export interface SimClusterOptions<App, M = unknown> extends Pick<SimNodeOptions<App, M>, 'boot' | 'shutdown' | 'disk'> {
  /** The node ids. Each node's transport knows every other node as a peer. */
  nodes: readonly NodeId[]
  /** The network, or options to create one. @default a network with default links */
  network?: SimNetwork | SimNetworkOptions
  /** Per-node clock drift, e.g. `{ n3: { rate: 1.01 } }`. @default exact clocks */
  clocks?: Record<NodeId, SimNodeOptions<App, M>['clock']>
}

/** A set of simulated machines on one network. */
export interface SimCluster<App, M = unknown> {
  readonly sim: Simulation
  readonly network: SimNetwork
  /** The node ids, in the order given. */
  readonly ids: readonly NodeId[]
  node(id: NodeId): SimNode<App, M>
  nodes(): Array<SimNode<App, M>>
  /** Nodes whose process is up. */
  running(): Array<SimNode<App, M>>
  /** Starts every node that is down. A boot that throws fails the run (and rejects this promise). */
  startAll(): Promise<App[]>
}

function isNetwork (value: SimNetwork | SimNetworkOptions | undefined): value is SimNetwork {
  return typeof value === 'object' && typeof (value as Partial<SimNetwork>).endpoint === 'function'
}

/**
 * Creates a cluster of simulated machines, all down. `startAll()` boots them.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 9 })
 * const cluster = createSimCluster(sim, {
 *   nodes: ['n1', 'n2', 'n3'],
 *   boot: async ({ transport }) => { await transport.start(); return transport }
 * })
 * await cluster.startAll()
 * cluster.node('n1').crash()
 * ```
 */
export function createSimCluster<App, M = unknown> (sim: Simulation, options: SimClusterOptions<App, M>): SimCluster<App, M> {
  const network = isNetwork(options.network) ? options.network : createSimNetwork(sim, options.network)
  const nodes = new Map<NodeId, SimNode<App, M>>()
  for (const id of options.nodes) {
    const init: SimNodeOptions<App, M> = {
      id,
      network,
      peers: options.nodes.filter((peer) => peer !== id),
      boot: options.boot
    }
    if (options.shutdown !== undefined) init.shutdown = options.shutdown
    if (options.disk !== undefined) init.disk = options.disk
    const clock = options.clocks?.[id]
    if (clock !== undefined) init.clock = clock
    nodes.set(id, createSimNode(sim, init))
  }
  const all = (): Array<SimNode<App, M>> => [...nodes.values()]
  return {
    sim,
    network,
    ids: [...options.nodes],
    node (id) {
      const node = nodes.get(id)
      if (node === undefined) throw new NotFoundError(`no node ${id} in this cluster`)
      return node
    },
    nodes: all,
    running: () => all().filter((node) => node.running),
    startAll: () => {
      const started = Promise.all(all().filter((node) => !node.running).map(async (node) => await node.start()))
      started.catch(() => {})
      return started
    }
  }
}
