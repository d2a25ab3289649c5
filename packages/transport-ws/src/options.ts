import type { Clock, Logger, NodeId, Random, Transport } from '@synod/interfaces'
import type { BackoffOptions } from './peer/backoff.js'

/** TLS material for `wss`. PEM strings or buffers, as `node:tls` takes them. */
export interface TlsOptions {
  /** Certificate authorities to trust (the cluster's own CA). */
  ca: string | Buffer | Array<string | Buffer>
  /** This node's certificate, presented as server and, with `mutual`, as client. */
  cert: string | Buffer
  /** This node's private key. */
  key: string | Buffer
  /**
   * Mutual TLS: the listener requires a client certificate signed by `ca`, and the dialer presents
   * `cert`. The HMAC handshake still runs inside the TLS session. @default false
   */
  mutual?: boolean
  /**
   * Server name to verify in the listener's certificate when dialing; by default the host of the
   * peer address. @default undefined
   */
  servername?: string
}

/** Configuration of a WebSocket transport. */
export interface WsTransportInit<M = unknown> {
  /** This node's id; peers authenticate it in the handshake. */
  nodeId: NodeId
  /** The cluster's id; a peer from another cluster is refused even with the same secret. */
  clusterId: string
  /** The shared cluster secret (at least 16 bytes). Never sent on the wire. */
  secret: string | Uint8Array
  /**
   * Where to accept peer connections. `false` makes a dial-only node (peers cannot dial it, it
   * dials them). @default { host: '127.0.0.1', port: 0 }
   */
  listen?: { host?: string, port?: number } | false
  /** Initial peers, `id -> address` (`ws://host:port` or `wss://host:port`). @default {} */
  peers?: Record<NodeId, string>
  /** TLS for both listening and dialing; addresses then use `wss://`. @default undefined */
  tls?: TlsOptions
  /**
   * Largest WebSocket frame accepted or sent, in bytes. A larger incoming frame closes that connection
   * with ERR_BAD_FRAME; a larger outgoing message is dropped by `send`. @default 16 MiB
   */
  maxFrameBytes?: number
  /** Per-peer queue bound in messages. @default 8192 */
  maxQueueMessages?: number
  /** Per-peer queue bound in (estimated) bytes. @default 32 MiB */
  maxQueueBytes?: number
  /**
   * Bulk bytes written to a socket and not yet flushed to the kernel; beyond it bulk messages wait,
   * so control messages never queue behind more than this much bulk. @default 256 KiB
   */
  bulkWindowBytes?: number
  /**
   * Socket buffer level above which the transport stops writing to a slow peer and lets its queue
   * (and then `send`) take the pressure. @default 4 MiB
   */
  socketHighWaterBytes?: number
  /** Control messages are batched into frames of about this size. @default 256 KiB */
  frameTargetBytes?: number
  /** Time for a connection to complete the handshake before it is closed. @default 5000 */
  handshakeTimeoutMs?: number
  /** Unauthenticated connections allowed at once; more are closed on arrival. @default 64 */
  maxPendingHandshakes?: number
  /** Reconnect backoff. */
  backoff?: BackoffOptions
  /**
   * Encode objects as msgpackr records shared across the frames of a connection. Both sides of a
   * cluster must agree. @default true
   */
  records?: boolean
  /**
   * Guard applied to every incoming message; a message it rejects closes that connection with
   * ERR_BAD_FRAME. Without it any decodable value is delivered. @default undefined
   */
  isMessage?: (value: unknown) => value is M
}

/** Injected dependencies. All optional: the system clock, `Math.random` and a silent logger. */
export interface WsTransportComponents {
  /** Times reconnect backoff and handshake timeouts. @default the system clock */
  clock?: Clock
  /** Draws backoff jitter. @default Math.random */
  random?: Random
  /** Receives refusals (with reasons), bad frames and connection changes. @default silent */
  logger?: Logger
}

/** Counters of a transport since it was created. */
export interface WsTransportStats {
  /** Messages accepted by `send` and written to a socket. */
  messagesSent: number
  /** Messages delivered to the handler. */
  messagesReceived: number
  framesSent: number
  framesReceived: number
  bytesSent: number
  bytesReceived: number
  /** Messages `send` refused (unknown peer, queue full, too large, stopped). */
  dropped: number
  /** Connections closed for bad input (ERR_BAD_FRAME). */
  badFrames: number
  /** Connections refused by the handshake (ERR_UNAUTHORIZED). */
  refused: number
  /** Messages waiting in peer queues right now. */
  queuedMessages: number
}

/** A `Transport` over WebSocket, with its listening address and counters. */
export interface WsTransport<M = unknown> extends Transport<M> {
  /** The address peers dial (`ws://127.0.0.1:port`); undefined before `start()` or when not listening. */
  readonly address: string | undefined
  /** Counters since creation. */
  stats(): WsTransportStats
}
