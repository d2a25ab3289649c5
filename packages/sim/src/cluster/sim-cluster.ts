import { InvalidArgumentError, NotFoundError, type NodeId } from '@synod/interfaces'
import type { Simulation } from '../core/simulation.js'
import { createSimNetwork, type SimNetwork, type SimNetworkOptions } from '../network/sim-network.js'
import { createSimNode, type SimNode, type SimNodeOptions } from './sim-node.js'

/** Options for `createSimCluster`. */
export interface SimClusterOptions<App, M = unknown> extends Pick<SimNodeOptions<App, M>, 'boot' | 'shutdown' | 'disk'> {
  /** The node ids. Each node's transport knows every other node (including ones added later) as a peer. */
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
  /** The node ids, in the order given (then added). */
  readonly ids: readonly NodeId[]
  node(id: NodeId): SimNode<App, M>
  nodes(): Array<SimNode<App, M>>
  /** Nodes whose process is up. */
  running(): Array<SimNode<App, M>>
  /**
   * Adds a machine (down) that knows every existing node as a peer, e.g. a server about to join
   * by a membership change. Existing nodes learn its address the way the protocol tells them
   * (`transport.addPeer`).
   */
  addNode(id: NodeId, options?: { clock?: SimNodeOptions<App, M>['clock'] }): SimNode<App, M>
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
  const ids: NodeId[] = [...options.nodes]
  const add = (id: NodeId, clock: SimNodeOptions<App, M>['clock'] | undefined): SimNode<App, M> => {
    if (nodes.has(id)) throw new InvalidArgumentError(`node ${id} is already in this cluster`, { field: 'id' })
    const init: SimNodeOptions<App, M> = {
      id,
      network,
      // Read at each boot, so a restarted node also knows the machines added since.
      peers: () => ids.filter((peer) => peer !== id),
      boot: options.boot
    }
    if (options.shutdown !== undefined) init.shutdown = options.shutdown
    if (options.disk !== undefined) init.disk = options.disk
    if (clock !== undefined) init.clock = clock
    const node = createSimNode(sim, init)
    nodes.set(id, node)
    return node
  }
  for (const id of options.nodes) add(id, options.clocks?.[id])
  const all = (): Array<SimNode<App, M>> => [...nodes.values()]
  return {
    sim,
    network,
    get ids () { return [...ids] },
    node (id) {
      const node = nodes.get(id)
      if (node === undefined) throw new NotFoundError(`no node ${id} in this cluster`)
      return node
    },
    nodes: all,
    addNode (id, nodeOptions = {}) {
      const node = add(id, nodeOptions.clock)
      ids.push(id)
      return node
    },
    running: () => all().filter((node) => node.running),
    startAll: () => {
      const started = Promise.all(all().filter((node) => !node.running).map(async (node) => await node.start()))
      started.catch(() => {})
      return started
    }
  }
}
