import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import type { TlsOptions } from './options.js'

export interface Listener {
  readonly wss: WebSocketServer
  readonly address: string
  close(): Promise<void>
}

/**
 * Starts an HTTP(S) server with a WebSocket endpoint on `host:port` (0 picks a free port).
 * Compression is off: consensus frames are small and latency-bound.
 */
export async function listen (host: string, port: number, maxPayload: number, tls: TlsOptions | undefined, onTlsError: (err: Error) => void): Promise<Listener> {
  const server: HttpServer = tls === undefined
    ? createHttpServer()
    : createHttpsServer({ ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: tls.mutual === true, rejectUnauthorized: tls.mutual === true })
  const wss = new WebSocketServer({ server, maxPayload, perMessageDeflate: false, clientTracking: true })
  // Errors of the listening socket surface through listen(); later ones must not crash the process.
  wss.on('error', () => {})
  server.on('clientError', (_err, socket) => { socket.destroy() })
  // A TLS handshake that failed here (with mTLS: a client certificate we do not trust).
  server.on('tlsClientError', (err: Error) => { onTlsError(err) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      server.on('error', () => {})
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  const hostPart = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  return {
    wss,
    address: `${tls === undefined ? 'ws' : 'wss'}://${hostPart}:${bound.port}`,
    async close () {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => { wss.close(() => { resolve() }) })
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
