import type { TypedEventTarget } from './events.js'
import type { Startable } from './lifecycle.js'

/** A node's id within a cluster. Stable across restarts; never reused for a different node. */
export type NodeId = string

/** Called for every message delivered to this node. Must not throw. */
export type MessageHandler<M> = (from: NodeId, message: M) => void

/** Options for `Transport.send`. */
export interface SendOptions {
  /**
   * Bulk traffic (snapshot chunks, catch-up batches) travels on a lower-priority lane so it never
   * starves small consensus messages. @default false
   */
  bulk?: boolean
}

/** Why a peer connection ended. */
export interface PeerDisconnectDetail {
  peer: NodeId
  reason: string
}

export interface TransportEvents {
  /** An authenticated connection to `peer` is open. */
  'peer:connect': { peer: NodeId }
  /** The connection to a peer closed; the transport reconnects on its own while the peer is known. */
  'peer:disconnect': PeerDisconnectDetail
  /** A peer's send queue has room again after `send` returned false. */
  drain: { peer: NodeId }
  /** A connection was refused or closed for bad input; the transport keeps serving other peers. */
  'peer:error': { peer: NodeId | undefined, code: string, message: string }
}

/**
 * Message passing between the nodes of a cluster, addressed by node id.
 *
 * Delivery is best effort: messages may be lost (a full queue, a broken connection, a crashed peer),
 * but on one link they arrive in the order sent (per lane: a bulk message may be overtaken by later
 * normal messages) and are never corrupted. Consensus tolerates loss, so
 * `send` never blocks: it returns false when the message was dropped. Messages are plain data
 * (objects, arrays, strings, numbers, booleans, null, Uint8Array) that the transport can encode.
 */
export interface Transport<M = unknown> extends Startable, TypedEventTarget<TransportEvents> {
  /** This node's id. */
  readonly localId: NodeId
  /**
   * Queues `message` for `to`. Returns false if it was dropped (unknown peer, queue full, stopped);
   * a 'drain' event follows once the queue has room.
   */
  send(to: NodeId, message: M, options?: SendOptions): boolean
  /** Registers the handler for incoming messages; returns a function that removes it. */
  onMessage(handler: MessageHandler<M>): () => void
  /** Adds or updates a peer's address. Connections are dialed lazily on first send. */
  addPeer(id: NodeId, address: string): void
  /** Forgets a peer and closes its connection. */
  removePeer(id: NodeId): void
  /** Known peers (excluding this node). */
  peers(): NodeId[]
}
