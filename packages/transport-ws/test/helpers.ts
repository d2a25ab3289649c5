import { WebSocket } from 'ws'
import type { RawConnection } from '@synod/compliance/transport'
import { createWsTransport, type WsTransport, type WsTransportInit } from '../src/index.js'

export const SECRET = 'test-secret-0123456789abcdef'
export const CLUSTER = 'test-cluster'

/** Fast timings for tests: backoff and handshake timeouts in tens of milliseconds. */
export function testTransport<M = unknown> (nodeId: string, init: Partial<WsTransportInit<M>> = {}): WsTransport<M> {
  return createWsTransport<M>({
    nodeId,
    clusterId: CLUSTER,
    secret: SECRET,
    backoff: { initialMs: 10, maxMs: 200 },
    handshakeTimeoutMs: 2000,
    ...init
  })
}

/** A stranger's WebSocket to `address`, speaking no handshake. */
export async function rawConnect (address: string): Promise<RawConnection & { socket: WebSocket, received: Buffer[], closeCode: number | undefined }> {
  const socket = new WebSocket(address, { perMessageDeflate: false })
  const received: Buffer[] = []
  const state = { closed: false, closeCode: undefined as number | undefined }
  socket.on('error', () => {})
  socket.on('message', (data) => { received.push(data as Buffer) })
  socket.on('close', (code) => {
    state.closed = true
    state.closeCode = code
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => { resolve() })
    socket.once('close', () => { reject(new Error('raw connection closed before opening')) })
  })
  return {
    socket,
    received,
    get closed () { return state.closed },
    get closeCode () { return state.closeCode },
    send (frame) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame, { binary: true }, () => {})
    },
    async close () {
      if (state.closed) return
      await new Promise<void>((resolve) => {
        socket.once('close', () => { resolve() })
        socket.terminate()
      })
    }
  }
}

export async function waitFor (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
