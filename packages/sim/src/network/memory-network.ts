import { TypedEventEmitter, type MessageHandler, type NodeId, type SendOptions, type Transport, type TransportEvents } from '@synod/interfaces'
import { wireClone } from './wire-clone.js'

/** Options for `createMemoryNetwork`. */
export interface MemoryNetworkOptions {
  /**
   * When a message is delivered: `microtask` is fastest (benchmarks); `macrotask` (setImmediate)
   * lets I/O and timers interleave with traffic, closer to a real socket.
   * @default 'macrotask'
   */
  delivery?: 'microtask' | 'macrotask'
  /**
   * Copy each message (see `wireClone`: typed arrays keep only their view's bytes), as encoding on a real wire would.
   * @default true
   */
  clone?: boolean
}

/**
 * A real-time, in-process network without faults: messages between its endpoints arrive in order,
 * on the next microtask or macrotask. For in-process clusters, examples and benchmarks; use
 * `createSimNetwork` for deterministic tests with faults.
 */
export interface MemoryNetwork {
  /** Creates (or replaces) the transport of node `id`, with `peers` added. */
  endpoint<M = unknown>(id: NodeId, options?: { peers?: readonly NodeId[] }): Transport<M>
}

class MemoryNetworkImpl implements MemoryNetwork {
  readonly endpoints = new Map<NodeId, MemoryEndpoint<unknown>>()
  readonly schedule: (callback: () => void) => void
  readonly clone: boolean

  constructor (options: MemoryNetworkOptions) {
    this.schedule = options.delivery === 'microtask' ? queueMicrotask : (callback) => { setImmediate(callback) }
    this.clone = options.clone ?? true
  }

  isUp (id: NodeId): boolean {
    return this.endpoints.get(id)?.connected === true
  }

  announce (id: NodeId, up: boolean): void {
    for (const [other, endpoint] of this.endpoints) if (other !== id) endpoint.peerChanged(id, up)
  }

  endpoint<M = unknown>(id: NodeId, options: { peers?: readonly NodeId[] } = {}): Transport<M> {
    this.endpoints.get(id)?.retire()
    const endpoint = new MemoryEndpoint<unknown>(id, this)
    for (const peer of options.peers ?? []) endpoint.addPeer(peer, `memory://${peer}`)
    this.endpoints.set(id, endpoint)
    return endpoint as unknown as Transport<M>
  }
}

class MemoryEndpoint<M> extends TypedEventEmitter<TransportEvents> implements Transport<M> {
  readonly localId: NodeId
  readonly #network: MemoryNetworkImpl
  readonly #peers = new Map<NodeId, string>()
  readonly #handlers = new Set<MessageHandler<M>>()
  #started = false
  #retired = false

  constructor (localId: NodeId, network: MemoryNetworkImpl) {
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

  retire (): void {
    this.#down('replaced')
    this.#retired = true
  }

  #down (reason: string): void {
    if (!this.connected) return
    this.#started = false
    for (const peer of this.#peers.keys()) if (this.#network.isUp(peer)) this.safeDispatch('peer:disconnect', { peer, reason })
    this.#network.announce(this.localId, false)
  }

  peerChanged (peer: NodeId, up: boolean): void {
    if (!this.connected || !this.#peers.has(peer)) return
    if (up) this.safeDispatch('peer:connect', { peer })
    else this.safeDispatch('peer:disconnect', { peer, reason: 'peer stopped' })
  }

  send (to: NodeId, message: M, _options?: SendOptions): boolean {
    if (!this.connected || !this.#peers.has(to)) return false
    const payload = this.#network.clone ? wireClone(message) : message
    const from = this.localId
    this.#network.schedule(() => {
      const target = this.#network.endpoints.get(to)
      if (target?.connected === true) target.receive(from, payload)
    })
    return true
  }

  onMessage (handler: MessageHandler<M>): () => void {
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

/**
 * Creates a real-time in-memory network.
 *
 * @example
 * ```ts
 * const network = createMemoryNetwork()
 * const a = network.endpoint<string>('a', { peers: ['b'] })
 * const b = network.endpoint<string>('b', { peers: ['a'] })
 * b.onMessage((from, text) => { console.log(from, text) })
 * await a.start(); await b.start()
 * a.send('b', 'hello')
 * ```
 */
export function createMemoryNetwork (options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetworkImpl(options)
}
