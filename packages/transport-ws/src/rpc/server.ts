import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket, type RawData } from 'ws'
import {
  InvalidArgumentError, OverloadedError, StoppedError, type Logger, type Startable
} from '@synod/interfaces'
import { silentLogger } from '../defaults.js'
import { CloseCode } from '../wire/close-codes.js'
import { createCorkedSender } from './cork.js'
import { RpcFrame, decodeRpc, encodeRpc, toWireError } from './protocol.js'

/** What a request handler knows about its call. */
export interface RpcContext<Identity> {
  /** What `authenticate` returned for this connection. */
  client: Identity
  /** Fires when the client cancels the request, disconnects, or the server stops. */
  signal: AbortSignal
}

/** Configuration of a client API server. */
export interface RpcServerInit<Req, Res, Identity = undefined> {
  /**
   * Answers one request. Throw a Synod error (`NotLeaderError`, ...) to send its `code`, message and
   * fields to the client; any other exception is reported as an opaque `ERR_INTERNAL`.
   */
  handler: (request: Req, context: RpcContext<Identity>) => Promise<Res> | Res
  /**
   * Decides whether a connecting client may talk to this server, from its HTTP upgrade request
   * (e.g. a bearer token in `authorization`). Return the client's identity, or `undefined` to refuse
   * with HTTP 401. @default every client is accepted with identity `undefined`
   */
  authenticate?: (request: IncomingMessage) => Promise<Identity | undefined> | Identity | undefined
  /** Guard for request bodies; a rejected body is answered with `ERR_INVALID_ARGUMENT`. @default undefined */
  isRequest?: (value: unknown) => value is Req
  /** Where to listen. @default { host: '127.0.0.1', port: 0 } */
  listen?: { host?: string, port?: number }
  /** TLS (`wss`): certificate and key, and `ca` + `mutual` to require client certificates. @default undefined */
  tls?: { cert: string | Buffer, key: string | Buffer, ca?: string | Buffer | Array<string | Buffer>, mutual?: boolean }
  /** Largest request frame; a larger one closes the connection (WebSocket close 1009). @default 1 MiB */
  maxRequestBytes?: number
  /** Requests a connection may have open at once; more are answered with `ERR_OVERLOADED`. @default 256 */
  maxInFlightPerConnection?: number
  /** Open client connections; more are refused with HTTP 503. @default 10000 */
  maxConnections?: number
}

export interface RpcServerComponents {
  /** @default silent */
  logger?: Logger
}

/** A request/response server over WebSocket + MessagePack for a node's client API. */
export interface RpcServer extends Startable {
  /** `ws://host:port` once started. */
  readonly address: string | undefined
  /** Open client connections. */
  connections(): number
}

class RpcServerImpl<Req, Res, Identity> implements RpcServer {
  readonly #init: RpcServerInit<Req, Res, Identity>
  readonly #log: Logger
  #http: HttpServer | undefined
  #wss: WebSocketServer | undefined
  #address: string | undefined
  readonly #aborts = new Set<AbortController>()

  constructor (init: RpcServerInit<Req, Res, Identity>, components: RpcServerComponents) {
    this.#init = init
    this.#log = (components.logger ?? silentLogger).child({ component: 'rpc-server' })
  }

  get address (): string | undefined { return this.#address }

  connections (): number { return this.#wss?.clients.size ?? 0 }

  async start (): Promise<void> {
    if (this.#http !== undefined) return
    const tls = this.#init.tls
    const http = tls === undefined
      ? createHttpServer()
      : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.mutual === true, rejectUnauthorized: tls.mutual === true })
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.#init.maxRequestBytes ?? 1024 * 1024, perMessageDeflate: false })
    wss.on('error', () => {})
    http.on('clientError', (_err, socket) => { socket.destroy() })
    http.on('upgrade', (request, socket, head) => {
      socket.on('error', () => {})
      void this.#upgrade(wss, request, socket, head)
    })
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(this.#init.listen?.port ?? 0, this.#init.listen?.host ?? '127.0.0.1', () => {
        http.off('error', reject)
        resolve()
      })
    })
    const bound = http.address() as AddressInfo
    this.#address = `${tls === undefined ? 'ws' : 'wss'}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
    this.#http = http
    this.#wss = wss
  }

  async stop (): Promise<void> {
    const http = this.#http
    const wss = this.#wss
    if (http === undefined || wss === undefined) return
    this.#http = undefined
    this.#wss = undefined
    this.#address = undefined
    for (const controller of this.#aborts) controller.abort(new StoppedError('server stopped'))
    for (const client of wss.clients) client.close(CloseCode.goingAway, 'server stopping')
    await new Promise<void>((resolve) => { wss.close(() => { resolve() }) })
    http.closeAllConnections()
    await new Promise<void>((resolve) => { http.close(() => { resolve() }) })
  }

  async #upgrade (wss: WebSocketServer, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (wss.clients.size >= (this.#init.maxConnections ?? 10_000)) {
      refuse(503, 'Service Unavailable')
      return
    }
    let identity: Identity | undefined
    try {
      identity = this.#init.authenticate === undefined ? undefined : await this.#init.authenticate(request)
      if (this.#init.authenticate !== undefined && identity === undefined) {
        this.#log.warn({ remote: request.socket.remoteAddress, code: 'ERR_UNAUTHORIZED' }, 'client refused')
        refuse(401, 'Unauthorized')
        return
      }
    } catch (err) {
      this.#log.warn({ remote: request.socket.remoteAddress, err: (err as Error).message }, 'client authentication failed')
      refuse(401, 'Unauthorized')
      return
    }
    if (this.#wss !== wss) {
      refuse(503, 'Service Unavailable')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      wss.emit('connection', ws, request)
      this.#serve(ws, identity as Identity)
    })
  }

  #serve (ws: WebSocket, client: Identity): void {
    const inFlight = new Map<number, AbortController>()
    const maxInFlight = this.#init.maxInFlightPerConnection ?? 256
    ws.on('error', (err) => { this.#log.debug({ err: err.message }, 'client socket error') })
    ws.on('close', () => {
      for (const controller of inFlight.values()) controller.abort(new StoppedError('client disconnected'))
    })
    const send = createCorkedSender(ws)
    const reply = (frame: unknown[]): void => {
      if (ws.readyState === ws.OPEN) send(encodeRpc(frame))
    }
    ws.on('message', (data: RawData, isBinary) => {
      let type: number, id: number, body: unknown
      try {
        [type, id, body] = decodeRpc(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary)
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, code: 'ERR_BAD_FRAME' }, 'closing client connection after a bad frame')
        ws.close(CloseCode.badFrame, 'ERR_BAD_FRAME')
        return
      }
      if (type === RpcFrame.cancel) {
        inFlight.get(id)?.abort(new StoppedError('request cancelled by the client'))
        return
      }
      if (type !== RpcFrame.request || inFlight.has(id)) {
        ws.close(CloseCode.badFrame, 'ERR_BAD_FRAME')
        return
      }
      if (inFlight.size >= maxInFlight) {
        reply([RpcFrame.error, id, toWireError(new OverloadedError(`more than ${maxInFlight} requests in flight`))])
        return
      }
      if (this.#init.isRequest !== undefined && !this.#init.isRequest(body)) {
        reply([RpcFrame.error, id, toWireError(new InvalidArgumentError('malformed request'))])
        return
      }
      const controller = new AbortController()
      inFlight.set(id, controller)
      this.#aborts.add(controller)
      void (async () => {
        try {
          const result = await this.#init.handler(body as Req, { client, signal: controller.signal })
          if (!controller.signal.aborted) reply([RpcFrame.response, id, result])
        } catch (err) {
          if (!controller.signal.aborted) reply([RpcFrame.error, id, toWireError(err)])
        } finally {
          inFlight.delete(id)
          this.#aborts.delete(controller)
        }
      })()
    })
  }
}

/**
 * Creates the client API server: request/response over WebSocket + MessagePack with request ids, an
 * authentication hook on the upgrade request, size and concurrency limits, and cancellation.
 */
export function createRpcServer<Req = unknown, Res = unknown, Identity = undefined> (init: RpcServerInit<Req, Res, Identity>, components: RpcServerComponents = {}): RpcServer {
  return new RpcServerImpl(init, components)
}
