/**
 * @packageDocumentation
 *
 * The Synod peer transport over WebSocket and MessagePack: nodes addressed by id, dialed lazily,
 * authenticated by an HMAC-SHA256 challenge-response over the cluster secret, with one logical
 * connection per pair, reconnect with backoff and jitter, per-turn frame coalescing, bounded
 * per-peer queues and a bulk lane for snapshot chunks. Also a small request/response server (and
 * client) on the same stack for a node's client API.
 *
 * @example
 * ```ts
 * import { createWsTransport } from '@synod/transport-ws'
 *
 * const secret = 'correct horse battery staple'
 * const a = createWsTransport({ nodeId: 'a', clusterId: 'demo', secret })
 * const b = createWsTransport({ nodeId: 'b', clusterId: 'demo', secret })
 * await a.start()
 * await b.start()
 * a.addPeer('b', b.address!)
 * b.addPeer('a', a.address!)
 * b.onMessage((from, message) => { console.log(from, message) })
 * a.send('b', { type: 'ping', term: 1 })
 * ```
 */
export { createWsTransport } from './transport.js'
export type { TlsOptions, WsTransport, WsTransportComponents, WsTransportInit, WsTransportStats } from './options.js'
export type { BackoffOptions } from './peer/backoff.js'
export { CloseCode } from './wire/close-codes.js'
export { systemClock, mathRandom, silentLogger } from './defaults.js'
export { createRpcServer } from './rpc/server.js'
export type { RpcContext, RpcServer, RpcServerComponents, RpcServerInit } from './rpc/server.js'
export { connectRpcClient } from './rpc/client.js'
export type { RpcClient, RpcClientOptions } from './rpc/client.js'
