import type { WebSocket } from 'ws'
import type { NodeId } from '@synod/interfaces'
import { FrameCodec } from '../wire/codec.js'

/** An authenticated connection to one peer, in either direction. */
export class Link {
  readonly codec: FrameCodec
  /** Bulk bytes handed to the socket and not yet flushed. */
  bulkInFlight = 0
  /**
   * Set when another link replaced this one or it closed: its remaining incoming frames are ignored,
   * which keeps per-link order when one link takes over from another.
   */
  retired = false

  constructor (
    readonly socket: WebSocket,
    readonly peer: NodeId,
    /** 'out' when this node dialed. */
    readonly direction: 'in' | 'out',
    /** The peer process's incarnation, from the handshake. */
    readonly peerIncarnation: string,
    records: boolean
  ) {
    this.codec = new FrameCodec(records)
  }

  /** The node that dialed this link. */
  dialer (localId: NodeId): NodeId {
    return this.direction === 'out' ? localId : this.peer
  }
}
