import {
  TypedEventEmitter,
  type MessageHandler, type NodeId, type SendOptions, type Startable, type Transport, type TransportEvents
} from '@synod/interfaces'

/** A consensus group (shard) id, unique within a cluster. */
export type GroupId = number

/**
 * What one node's mux sends another: the messages of many groups in one transport message.
 * `groups[i]` is the group of `messages[i]`. An envelope without messages is a node-level
 * heartbeat: it proves the sender is alive and costs one small frame per peer pair.
 */
export interface MuxEnvelope<M = unknown> {
  type: 'groups'
  groups: GroupId[]
  messages: M[]
}

/**
 * Shape check for incoming envelopes (the base transport's `isMessage` guard). It checks the
 * envelope only: the mux checks each message with its own `isMessage` before a group sees it.
 */
export function isMuxEnvelope<M = unknown> (value: unknown): value is MuxEnvelope<M> {
  if (typeof value !== 'object' || value === null) return false
  const envelope = value as Partial<MuxEnvelope>
  return envelope.type === 'groups' && Array.isArray(envelope.groups) && Array.isArray(envelope.messages) &&
    envelope.groups.length === envelope.messages.length && envelope.groups.every((group) => Number.isSafeInteger(group))
}

/** Options of `createGroupMux`. */
export interface GroupMuxInit<M> {
  /**
   * How outgoing messages wait to be coalesced: every message sent to a peer before the scheduled
   * callback runs leaves in one envelope. `setImmediate` (the default) collects everything the
   * groups send in one event-loop turn, timers and their Ready loops included.
   * @default setImmediate
   */
  scheduleFlush?: (flush: () => void) => void
  /** Guard applied to every incoming group message; failing messages are dropped and counted. @default accept all */
  isMessage?: (message: unknown) => message is M
  /** Called for a message addressed to a group this node does not host (yet). @default dropped and counted */
  onUnknownGroup?: (group: GroupId, from: NodeId, message: M) => void
}

/** Counters of a mux, for benchmarks and the status page. */
export interface GroupMuxStats {
  /** Group messages handed to the mux. */
  messagesSent: number
  /** Transport messages (envelopes) the group messages left in, heartbeats included. */
  envelopesSent: number
  /** Node-level heartbeats (empty envelopes) sent. */
  heartbeatsSent: number
  messagesReceived: number
  envelopesReceived: number
  /** Group messages lost because the base transport refused their envelope. */
  dropped: number
  /** Incoming messages for groups not hosted here, or failing the guard. */
  discarded: number
}

/**
 * Many consensus groups over one transport: each group gets a `Transport<M>` view, messages are
 * tagged with their group and coalesced into one envelope per peer per flush. With 1,000 groups
 * on a node, a round of heartbeats is one transport message per peer, not 1,000.
 */
export interface GroupMux<M> extends Startable {
  readonly localId: NodeId
  /** The transport view of `group` (created on first use). Its `start`/`stop` only open and close the view. */
  group(group: GroupId): Transport<M>
  /** Forgets a group's view (a replica moved away). */
  closeGroup(group: GroupId): void
  hasGroup(group: GroupId): boolean
  /** Sends one message for `group` to `peer` without a view (an answer on behalf of a group not hosted here). */
  sendAs(group: GroupId, peer: NodeId, message: M): boolean
  /** Sends an empty envelope (a node-level heartbeat) to `peer`. */
  heartbeat(peer: NodeId): boolean
  /** Adds a peer to the base transport for node-level traffic (heartbeats) even if no group names it yet. */
  addPeer(peer: NodeId, address: string): void
  /** Undoes one `addPeer`: the base forgets the peer once no group names it either. */
  removePeer(peer: NodeId): void
  /** Called once for every envelope received from a peer, before its messages are delivered. */
  onEnvelope(handler: (from: NodeId, messages: number) => void): () => void
  /** Called once for every envelope flushed to a peer. */
  onFlush(handler: (to: NodeId, messages: number) => void): () => void
  stats(): GroupMuxStats
}

/** Creates a group mux over `base`. The mux starts and stops `base`. */
export function createGroupMux<M> (base: Transport<MuxEnvelope<M>>, init: GroupMuxInit<M> = {}): GroupMux<M> {
  return new GroupMuxImpl(base, init)
}

interface Outbox { groups: GroupId[], messages: unknown[] }

class GroupMuxImpl<M> implements GroupMux<M> {
  readonly localId: NodeId
  readonly #base: Transport<MuxEnvelope<M>>
  readonly #init: GroupMuxInit<M>
  readonly #schedule: (flush: () => void) => void
  readonly #views = new Map<GroupId, GroupView<M>>()
  /** How many views (plus the mux itself) name each peer; the base forgets a peer at zero. */
  readonly #peerRefs = new Map<NodeId, number>()
  readonly #outboxes = new Map<NodeId, Outbox>()
  readonly #envelopeHandlers = new Set<(from: NodeId, messages: number) => void>()
  readonly #flushHandlers = new Set<(to: NodeId, messages: number) => void>()
  #flushScheduled = false
  #started = false
  #unsubscribe: (() => void) | undefined
  readonly #stats: GroupMuxStats = { messagesSent: 0, envelopesSent: 0, heartbeatsSent: 0, messagesReceived: 0, envelopesReceived: 0, dropped: 0, discarded: 0 }
  readonly #flush = (): void => { this.#flushAll() }

  constructor (base: Transport<MuxEnvelope<M>>, init: GroupMuxInit<M>) {
    this.localId = base.localId
    this.#base = base
    this.#init = init
    this.#schedule = init.scheduleFlush ?? ((flush) => { setImmediate(flush) })
    base.addEventListener('peer:connect', (event) => { this.#forward('peer:connect', event.detail, event.detail.peer) })
    base.addEventListener('peer:disconnect', (event) => { this.#forward('peer:disconnect', event.detail, event.detail.peer) })
    base.addEventListener('drain', (event) => { this.#forward('drain', event.detail, event.detail.peer) })
  }

  get started (): boolean {
    return this.#started
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#unsubscribe = this.#base.onMessage((from, envelope) => { this.#receive(from, envelope) })
    await this.#base.start()
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#flushAll()
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    await this.#base.stop()
  }

  group (group: GroupId): Transport<M> {
    let view = this.#views.get(group)
    if (view === undefined) {
      view = new GroupView<M>(group, this)
      this.#views.set(group, view)
    }
    return view
  }

  closeGroup (group: GroupId): void {
    const view = this.#views.get(group)
    if (view === undefined) return
    this.#views.delete(group)
    view.close()
  }

  hasGroup (group: GroupId): boolean {
    return this.#views.has(group)
  }

  addPeer (peer: NodeId, address: string): void {
    this.refPeer(peer, address)
  }

  removePeer (peer: NodeId): void {
    if (this.#peerRefs.has(peer)) this.unrefPeer(peer)
  }

  sendAs (group: GroupId, peer: NodeId, message: M): boolean {
    return this.enqueue(peer, group, message)
  }

  heartbeat (peer: NodeId): boolean {
    if (!this.#started) return false
    const ok = this.#base.send(peer, { type: 'groups', groups: [], messages: [] })
    if (ok) {
      this.#stats.heartbeatsSent++
      this.#stats.envelopesSent++
    }
    return ok
  }

  onEnvelope (handler: (from: NodeId, messages: number) => void): () => void {
    this.#envelopeHandlers.add(handler)
    return () => { this.#envelopeHandlers.delete(handler) }
  }

  onFlush (handler: (to: NodeId, messages: number) => void): () => void {
    this.#flushHandlers.add(handler)
    return () => { this.#flushHandlers.delete(handler) }
  }

  stats (): GroupMuxStats {
    return { ...this.#stats }
  }

  // ------------------------------------------------------------ used by the views

  refPeer (peer: NodeId, address: string): void {
    if (peer === this.localId) return
    this.#peerRefs.set(peer, (this.#peerRefs.get(peer) ?? 0) + 1)
    this.#base.addPeer(peer, address)
  }

  addPeerAddress (peer: NodeId, address: string): void {
    this.#base.addPeer(peer, address)
  }

  /** Bulk messages (snapshot chunks) leave at once in an envelope of their own, on the base's bulk lane. */
  sendBulk (to: NodeId, group: GroupId, message: M): boolean {
    if (!this.#started || !this.#peerRefs.has(to)) return false
    this.#stats.messagesSent++
    const ok = this.#base.send(to, { type: 'groups', groups: [group], messages: [message] }, { bulk: true })
    if (ok) this.#stats.envelopesSent++
    else this.#stats.dropped++
    return ok
  }

  unrefPeer (peer: NodeId): void {
    const refs = (this.#peerRefs.get(peer) ?? 0) - 1
    if (refs > 0) {
      this.#peerRefs.set(peer, refs)
      return
    }
    this.#peerRefs.delete(peer)
    this.#base.removePeer(peer)
  }

  enqueue (to: NodeId, group: GroupId, message: M): boolean {
    if (!this.#started || !this.#peerRefs.has(to)) return false
    let outbox = this.#outboxes.get(to)
    if (outbox === undefined) {
      outbox = { groups: [], messages: [] }
      this.#outboxes.set(to, outbox)
    }
    outbox.groups.push(group)
    outbox.messages.push(message)
    this.#stats.messagesSent++
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      this.#schedule(this.#flush)
    }
    return true
  }

  // ------------------------------------------------------------ internals

  #flushAll (): void {
    this.#flushScheduled = false
    if (this.#outboxes.size === 0) return
    const outboxes = [...this.#outboxes]
    this.#outboxes.clear()
    for (const [to, outbox] of outboxes) {
      const envelope: MuxEnvelope<M> = { type: 'groups', groups: outbox.groups, messages: outbox.messages as M[] }
      const ok = this.#started && this.#base.send(to, envelope)
      if (ok) {
        this.#stats.envelopesSent++
        for (const handler of this.#flushHandlers) handler(to, outbox.groups.length)
      } else {
        this.#stats.dropped += outbox.groups.length
      }
    }
  }

  #receive (from: NodeId, envelope: MuxEnvelope<M>): void {
    if (!isMuxEnvelope(envelope)) {
      this.#stats.discarded++
      return
    }
    this.#stats.envelopesReceived++
    const count = envelope.groups.length
    this.#stats.messagesReceived += count
    for (const handler of this.#envelopeHandlers) handler(from, count)
    const guard = this.#init.isMessage
    for (let i = 0; i < count; i++) {
      const group = envelope.groups[i] as GroupId
      const message = envelope.messages[i] as M
      if (guard !== undefined && !guard(message)) {
        this.#stats.discarded++
        continue
      }
      const view = this.#views.get(group)
      if (view !== undefined && view.open) {
        view.deliver(from, message)
      } else if (this.#init.onUnknownGroup !== undefined) {
        this.#init.onUnknownGroup(group, from, message)
      } else {
        this.#stats.discarded++
      }
    }
  }

  #forward<K extends 'peer:connect' | 'peer:disconnect' | 'drain'> (type: K, detail: TransportEvents[K], peer: NodeId): void {
    for (const view of this.#views.values()) if (view.hasPeer(peer)) view.safeDispatch(type, detail)
  }
}

/** One group's view of the mux: a Transport whose messages carry the group's tag. */
class GroupView<M> extends TypedEventEmitter<TransportEvents> implements Transport<M> {
  readonly localId: NodeId
  readonly #group: GroupId
  readonly #mux: GroupMuxImpl<M>
  readonly #peers = new Map<NodeId, string>()
  readonly #handlers = new Set<MessageHandler<M>>()
  #open = false
  #closed = false

  constructor (group: GroupId, mux: GroupMuxImpl<M>) {
    super()
    this.localId = mux.localId
    this.#group = group
    this.#mux = mux
  }

  get open (): boolean {
    return this.#open
  }

  async start (): Promise<void> {
    if (!this.#closed) this.#open = true
  }

  async stop (): Promise<void> {
    this.#open = false
  }

  close (): void {
    this.#open = false
    this.#closed = true
    for (const peer of this.#peers.keys()) this.#mux.unrefPeer(peer)
    this.#peers.clear()
  }

  send (to: NodeId, message: M, options?: SendOptions): boolean {
    // Any peer the mux knows will do, not only this group's: a replica that is joining a group has
    // no configuration yet, so it names no peers, and must still answer the leader adding it.
    if (!this.#open) return false
    if (options?.bulk === true) return this.#mux.sendBulk(to, this.#group, message)
    return this.#mux.enqueue(to, this.#group, message)
  }

  onMessage (handler: MessageHandler<M>): () => void {
    const registration: MessageHandler<M> = (from, message) => { handler(from, message) }
    this.#handlers.add(registration)
    return () => { this.#handlers.delete(registration) }
  }

  deliver (from: NodeId, message: M): void {
    for (const handler of this.#handlers) handler(from, message)
  }

  addPeer (id: NodeId, address: string): void {
    if (id === this.localId || this.#closed) return
    const known = this.#peers.get(id)
    if (known === address) return
    if (known === undefined) this.#mux.refPeer(id, address)
    else this.#mux.addPeerAddress(id, address)
    this.#peers.set(id, address)
  }

  removePeer (id: NodeId): void {
    if (!this.#peers.delete(id)) return
    this.#mux.unrefPeer(id)
  }

  hasPeer (id: NodeId): boolean {
    return this.#peers.has(id)
  }

  peers (): NodeId[] {
    return [...this.#peers.keys()]
  }
}
