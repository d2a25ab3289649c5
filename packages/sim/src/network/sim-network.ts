import { TypedEventEmitter, type MessageHandler, type NodeId, type SendOptions, type Transport, type TransportEvents } from '@synod/interfaces'
import type { Simulation } from '../core/simulation.js'
import { describeValue } from '../core/trace.js'
import type { SimRandom } from '../random/random.js'
import { defaultLink, estimateSize, linkKey, type LinkOptions, type ResolvedLink } from './link.js'
import { bridgePlan, groupsPlan, halvesPlan, isolatePlan, majorityRingPlan, oneWayPlan, type PartitionPlan } from './partitions.js'
import { wireClone } from './wire-clone.js'

/** Options for `createSimNetwork`. Link fields are the defaults of every link. */
export interface SimNetworkOptions extends LinkOptions {
  /**
   * Copy each message when it is sent (see `wireClone`: typed arrays keep only their view's bytes), as a real transport's encoding
   * would, so sender and receiver never share objects (and non-plain data fails loudly).
   * @default true
   */
  clone?: boolean
  /**
   * Write every delivery and drop to the trace.
   * @default true
   */
  traceMessages?: boolean
  /**
   * Renders a message for the trace.
   * @default compact JSON cut at 160 characters
   */
  describe?: (message: unknown) => string
}

/** Options for `SimNetwork.endpoint`. */
export interface EndpointOptions {
  /** Peers added at once (`addPeer` with the address `sim://<id>`). @default [] */
  peers?: readonly NodeId[]
}

/** A simulated node's transport. It is a plain `Transport`; `connected` is extra. */
export interface SimTransport<M = unknown> extends Transport<M> {
  /** False once stopped or replaced by a newer endpoint for the same id (a restarted process). */
  readonly connected: boolean
}

/** Counters of what happened on the network. */
export interface NetworkStats {
  sent: number
  delivered: number
  /** Lost to the link's random loss. */
  lost: number
  /** Dropped because the link was cut (at send or at delivery). */
  cut: number
  /** Dropped because the receiver was down or not started when the message arrived. */
  undeliverable: number
  duplicated: number
}

/**
 * A simulated network between the endpoints of one simulation: per-link latency, loss, duplication
 * and reordering, and partitions. Each partition method replaces the current partition (heal, then
 * cut), except `cut`, which adds one directed link to it. Shapes that choose nodes at random use the
 * network's own `partitions` random stream, so they never shift message latencies.
 */
export interface SimNetwork {
  /**
   * Creates the transport of node `id`. Calling it again for the same id (a restarted process)
   * replaces the old endpoint, which stops receiving; messages in flight go to the new one.
   */
  endpoint<M = unknown>(id: NodeId, options?: EndpointOptions): SimTransport<M>
  /**
   * Retires node `id`'s endpoint (its process died): it can neither send nor receive, even if the
   * dead process's code calls `start()` again. A later `endpoint(id)` gives a working one.
   */
  detach(id: NodeId): void
  /** Ids that have (or had) an endpoint, sorted. */
  nodes(): NodeId[]
  /** Overrides the behaviour of the directed link `from -> to`. */
  configureLink(from: NodeId, to: NodeId, options: LinkOptions): void
  /** Overrides both directions between `a` and `b`. */
  configureLinks(a: NodeId, b: NodeId, options: LinkOptions): void
  /** The override set on `from -> to` by `configureLink`, if any. */
  linkOverride(from: NodeId, to: NodeId): LinkOptions | undefined
  /** Removes the override of `from -> to`: it follows the defaults again. */
  resetLink(from: NodeId, to: NodeId): void
  /** Changes the defaults of every link that has no override. */
  configureDefaults(options: LinkOptions): void
  /** True unless the directed link is cut. */
  isReachable(from: NodeId, to: NodeId): boolean
  /** The currently cut directed links, sorted. */
  cutLinks(): Array<[from: NodeId, to: NodeId]>
  /** Adds one directed cut to the current partition. */
  cut(from: NodeId, to: NodeId): void
  /** Nodes in different groups cannot talk; nodes in no group talk to everyone. */
  partition(groups: readonly (readonly NodeId[])[]): PartitionPlan
  /** A random minority and majority (of `nodes`, default all) that cannot talk. */
  partitionHalves(nodes?: readonly NodeId[]): PartitionPlan
  /** Cuts `node` off from every other node (of `nodes`, default all). */
  isolate(node: NodeId, nodes?: readonly NodeId[]): PartitionPlan
  /** Two random sides that cannot talk, joined only through one bridge node (random unless given). */
  bridge(options?: { nodes?: readonly NodeId[], bridge?: NodeId }): PartitionPlan
  /** Jepsen's majorities-ring: every node sees a majority, no two nodes the same one. */
  majorityRing(nodes?: readonly NodeId[]): PartitionPlan
  /** Messages from `from` to `to` are dropped; the reverse direction flows. */
  oneWay(from: readonly NodeId[], to: readonly NodeId[]): PartitionPlan
  /** Applies any partition plan (replacing the current partition). */
  applyPartition(plan: PartitionPlan): void
  /** Removes every cut. */
  heal(): void
  readonly stats: Readonly<NetworkStats>
}

interface Endpoint {
  readonly id: NodeId
  readonly transport: SimEndpoint<unknown>
}

class SimNetworkImpl implements SimNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, undeliverable: 0, duplicated: 0 }
  readonly #sim: Simulation
  readonly #random: SimRandom
  readonly #partitionRandom: SimRandom
  readonly #clone: boolean
  readonly #traceMessages: boolean
  readonly #describe: (message: unknown) => string
  readonly #endpoints = new Map<NodeId, Endpoint>()
  readonly #links = new Map<string, LinkOptions>()
  readonly #lastDelivery = new Map<string, number>()
  /** When each lane of a link finishes transmitting what is queued on it (finite bandwidth only). */
  readonly #busyUntil = new Map<string, number>()
  readonly #cuts = new Set<string>()
  #defaults: ResolvedLink

  constructor (sim: Simulation, options: SimNetworkOptions) {
    this.#sim = sim
    this.#random = sim.random.fork('network')
    this.#partitionRandom = sim.random.fork('partitions')
    this.#clone = options.clone ?? true
    this.#traceMessages = options.traceMessages ?? true
    this.#describe = options.describe ?? ((message) => describeValue(message))
    this.#defaults = { ...defaultLink, ...definedOnly(options) }
  }

  endpoint<M = unknown>(id: NodeId, options: EndpointOptions = {}): SimTransport<M> {
    const previous = this.#endpoints.get(id)
    previous?.transport.retire()
    const transport = new SimEndpoint<unknown>(id, this)
    for (const peer of options.peers ?? []) if (peer !== id) transport.addPeer(peer, `sim://${peer}`)
    this.#endpoints.set(id, { id, transport })
    return transport as SimTransport<M>
  }

  detach (id: NodeId): void {
    this.#endpoints.get(id)?.transport.retire()
  }

  nodes (): NodeId[] {
    return [...this.#endpoints.keys()].sort()
  }

  configureLink (from: NodeId, to: NodeId, options: LinkOptions): void {
    const key = linkKey(from, to)
    this.#links.set(key, { ...this.#links.get(key), ...definedOnly(options) })
  }

  configureLinks (a: NodeId, b: NodeId, options: LinkOptions): void {
    this.configureLink(a, b, options)
    this.configureLink(b, a, options)
  }

  linkOverride (from: NodeId, to: NodeId): LinkOptions | undefined {
    const override = this.#links.get(linkKey(from, to))
    return override === undefined ? undefined : { ...override }
  }

  resetLink (from: NodeId, to: NodeId): void {
    this.#links.delete(linkKey(from, to))
  }

  configureDefaults (options: LinkOptions): void {
    this.#defaults = { ...this.#defaults, ...definedOnly(options) }
  }

  isReachable (from: NodeId, to: NodeId): boolean {
    return !this.#cuts.has(linkKey(from, to))
  }

  cutLinks (): Array<[NodeId, NodeId]> {
    return [...this.#cuts].sort().map((key) => key.split('\u0000') as [NodeId, NodeId])
  }

  cut (from: NodeId, to: NodeId): void {
    this.#cuts.add(linkKey(from, to))
    this.#sim.log('net', `cut ${from} -/-> ${to}`)
  }

  partition (groups: readonly (readonly NodeId[])[]): PartitionPlan {
    return this.#apply(groupsPlan(groups))
  }

  partitionHalves (nodes: readonly NodeId[] = this.nodes()): PartitionPlan {
    return this.#apply(halvesPlan(nodes, this.#partitionRandom))
  }

  isolate (node: NodeId, nodes: readonly NodeId[] = this.nodes()): PartitionPlan {
    return this.#apply(isolatePlan(node, nodes))
  }

  bridge (options: { nodes?: readonly NodeId[], bridge?: NodeId } = {}): PartitionPlan {
    return this.#apply(bridgePlan(options.nodes ?? this.nodes(), this.#partitionRandom, options.bridge))
  }

  majorityRing (nodes: readonly NodeId[] = this.nodes()): PartitionPlan {
    return this.#apply(majorityRingPlan(nodes, this.#partitionRandom))
  }

  oneWay (from: readonly NodeId[], to: readonly NodeId[]): PartitionPlan {
    return this.#apply(oneWayPlan(from, to))
  }

  applyPartition (plan: PartitionPlan): void {
    this.#apply(plan)
  }

  heal (): void {
    if (this.#cuts.size === 0) return
    this.#cuts.clear()
    this.#sim.log('net', 'heal')
  }

  #apply (plan: PartitionPlan): PartitionPlan {
    this.#cuts.clear()
    for (const [from, to] of plan.cuts) this.#cuts.add(linkKey(from, to))
    this.#sim.log('net', `partition ${plan.description}`)
    return plan
  }

  #link (from: NodeId, to: NodeId): ResolvedLink {
    const override = this.#links.get(linkKey(from, to))
    return override === undefined ? this.#defaults : { ...this.#defaults, ...override }
  }

  /** True if `id` has a started endpoint. */
  isUp (id: NodeId): boolean {
    return this.#endpoints.get(id)?.transport.connected === true
  }

  /** Tells every other endpoint that `id` came up or went down. */
  announce (id: NodeId, up: boolean): void {
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.id !== id) endpoint.transport.peerChanged(id, up)
    }
  }

  /** Puts a message on the wire. Called by an endpoint that is started and knows the peer. */
  transmit (from: NodeId, to: NodeId, message: unknown, bulk: boolean): void {
    this.stats.sent++
    const payload = this.#clone ? wireClone(message) : message
    if (!this.isReachable(from, to)) {
      this.stats.cut++
      if (this.#traceMessages) this.#sim.log('net', `${from} -> ${to} CUT ${this.#describe(payload)}`)
      return
    }
    const link = this.#link(from, to)
    if (this.#random.chance(link.loss)) {
      this.stats.lost++
      if (this.#traceMessages) this.#sim.log('net', `${from} -> ${to} LOST ${this.#describe(payload)}`)
      return
    }
    this.#scheduleDelivery(from, to, payload, link, bulk, false)
    if (this.#random.chance(link.duplicate)) {
      this.stats.duplicated++
      this.#scheduleDelivery(from, to, this.#clone ? wireClone(payload) : payload, link, bulk, true)
    }
  }

  #scheduleDelivery (from: NodeId, to: NodeId, payload: unknown, link: ResolvedLink, bulk: boolean, duplicate: boolean): void {
    const limited = Number.isFinite(link.bandwidth)
    // With finite bandwidth, bulk traffic has its own lane (own queue, own FIFO order).
    const key = limited && bulk ? `${linkKey(from, to)}\u0000bulk` : linkKey(from, to)
    let sent = this.#sim.now()
    if (limited) {
      sent = Math.max(sent, this.#busyUntil.get(key) ?? 0) + estimateSize(payload) / link.bandwidth
      this.#busyUntil.set(key, sent)
    }
    let at = sent + link.latency.sample(this.#random)
    if (!this.#random.chance(link.reorder)) {
      // FIFO: never arrive before an earlier message on the same link. Ties keep send order,
      // because the event queue orders equal times by scheduling order.
      at = Math.max(at, this.#lastDelivery.get(key) ?? 0)
      this.#lastDelivery.set(key, at)
    }
    this.#sim.scheduleAt(at, () => { this.#deliver(from, to, payload, duplicate) }, { kind: 'message' })
  }

  #deliver (from: NodeId, to: NodeId, payload: unknown, duplicate: boolean): void {
    const label = duplicate ? ' (duplicate)' : ''
    if (!this.isReachable(from, to)) {
      this.stats.cut++
      if (this.#traceMessages) this.#sim.log('net', `${from} -> ${to} CUT in flight${label} ${this.#describe(payload)}`)
      return
    }
    const target = this.#endpoints.get(to)?.transport
    if (target?.connected !== true) {
      this.stats.undeliverable++
      if (this.#traceMessages) this.#sim.log('net', `${from} -> ${to} DOWN${label} ${this.#describe(payload)}`)
      return
    }
    this.stats.delivered++
    if (this.#traceMessages) this.#sim.log('net', `${from} -> ${to}${label} ${this.#describe(payload)}`)
    target.receive(from, payload)
  }
}

class SimEndpoint<M> extends TypedEventEmitter<TransportEvents> implements SimTransport<M> {
  readonly localId: NodeId
  readonly #network: SimNetworkImpl
  readonly #peers = new Map<NodeId, string>()
  readonly #handlers = new Set<MessageHandler<M>>()
  #started = false
  #retired = false

  constructor (localId: NodeId, network: SimNetworkImpl) {
    super()
    this.localId = localId
    this.#network = network
  }

  get connected (): boolean {
    return this.#started && !this.#retired
  }

  async start (): Promise<void> {
    if (this.#started || this.#retired) return
    this.#started = true
    for (const peer of this.#peers.keys()) if (this.#network.isUp(peer)) this.safeDispatch('peer:connect', { peer })
    this.#network.announce(this.localId, true)
  }

  async stop (): Promise<void> {
    this.#down('stopped')
  }

  /** The process behind this endpoint is gone; a new endpoint took its id. */
  retire (): void {
    this.#down('process died')
    this.#retired = true
  }

  #down (reason: string): void {
    if (!this.connected) return
    this.#started = false
    for (const peer of this.#peers.keys()) if (this.#network.isUp(peer)) this.safeDispatch('peer:disconnect', { peer, reason })
    this.#network.announce(this.localId, false)
  }

  /** A peer's process came up or went down (the simulated connection opened or broke). */
  peerChanged (peer: NodeId, up: boolean): void {
    if (!this.connected || !this.#peers.has(peer)) return
    if (up) this.safeDispatch('peer:connect', { peer })
    else this.safeDispatch('peer:disconnect', { peer, reason: 'peer stopped' })
  }

  send (to: NodeId, message: M, options?: SendOptions): boolean {
    if (!this.connected || !this.#peers.has(to)) return false
    this.#network.transmit(this.localId, to, message, options?.bulk === true)
    return true
  }

  onMessage (handler: MessageHandler<M>): () => void {
    // Wrapped so that registering the same function twice gives two independent registrations.
    const registration: MessageHandler<M> = (from, message) => { handler(from, message) }
    this.#handlers.add(registration)
    return () => { this.#handlers.delete(registration) }
  }

  addPeer (id: NodeId, address: string): void {
    if (id === this.localId) return
    const known = this.#peers.has(id)
    this.#peers.set(id, address)
    if (!known && this.connected && this.#network.isUp(id)) this.safeDispatch('peer:connect', { peer: id })
  }

  removePeer (id: NodeId): void {
    if (!this.#peers.delete(id)) return
    if (this.connected && this.#network.isUp(id)) this.safeDispatch('peer:disconnect', { peer: id, reason: 'removed' })
  }

  peers (): NodeId[] {
    return [...this.#peers.keys()]
  }

  receive (from: NodeId, message: unknown): void {
    for (const handler of [...this.#handlers]) handler(from, message as M)
  }
}

function definedOnly (options: LinkOptions): LinkOptions {
  const result: LinkOptions = {}
  if (options.latency !== undefined) result.latency = options.latency
  if (options.loss !== undefined) result.loss = options.loss
  if (options.duplicate !== undefined) result.duplicate = options.duplicate
  if (options.reorder !== undefined) result.reorder = options.reorder
  if (options.bandwidth !== undefined) result.bandwidth = options.bandwidth
  return result
}

/**
 * Creates a simulated network on `sim`.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 1 })
 * const net = createSimNetwork(sim, { latency: uniform(1, 10), loss: 0.01 })
 * const a = net.endpoint('a', { peers: ['b'] })
 * const b = net.endpoint('b', { peers: ['a'] })
 * b.onMessage((from, message) => { sim.log('b', `got ${String(message)} from ${from}`) })
 * await a.start(); await b.start()
 * a.send('b', 'hello')
 * await sim.runUntilQuiet()
 * ```
 */
export function createSimNetwork (sim: Simulation, options: SimNetworkOptions = {}): SimNetwork {
  return new SimNetworkImpl(sim, options)
}
