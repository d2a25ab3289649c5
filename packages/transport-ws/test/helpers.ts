import { WebSocket } from 'ws'
import type { Logger } from '@synod/interfaces'
import { dialerProof, encodeHandshake, newIncarnation, newNonce, parseChallenge } from '../src/wire/handshake.js'
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

export interface CapturedLog { level: string, fields: Record<string, unknown>, message: string | undefined }

/** A logger that records every line, for asserting on refusal reasons. */
export function captureLogger (lines: CapturedLog[] = []): Logger & { lines: CapturedLog[] } {
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (fields: Record<string, unknown>, message?: string): void => { lines.push({ level, fields: { ...bindings, ...fields }, message }) }
    return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) }
  }
  return Object.assign(make({}), { lines })
}

/**
 * Performs the dialer side of the handshake by hand with `secret`, then hands back the open socket,
 * so a test can write arbitrary frames as an authenticated (or not) peer.
 */
export async function handshakeBy (address: string, init: { nodeId: string, target: string, secret: string, clusterId?: string }): Promise<{ socket: WebSocket, accepted: boolean, closeCode: () => number | undefined }> {
  const socket = new WebSocket(address, { perMessageDeflate: false })
  let closeCode: number | undefined
  socket.on('error', () => {})
  socket.on('close', (code) => { closeCode = code })
  const frames: Buffer[] = []
  const waiters: Array<() => void> = []
  socket.on('message', (data) => { frames.push(data as Buffer); waiters.shift()?.() })
  const next = async (): Promise<Buffer | undefined> => {
    if (frames.length === 0) {
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        socket.once('close', () => { resolve() })
      })
    }
    return frames.shift()
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => { resolve() })
    socket.once('close', () => { reject(new Error('closed before open')) })
  })
  const challengeBytes = await next()
  if (challengeBytes === undefined) return { socket, accepted: false, closeCode: () => closeCode }
  const challenge = parseChallenge(challengeBytes, true)
  const nonce = newNonce()
  const incarnation = newIncarnation()
  const clusterId = init.clusterId ?? CLUSTER
  const proof = dialerProof(Buffer.from(init.secret), { cluster: clusterId, dialer: init.nodeId, listener: init.target, incarnation, listenerNonce: challenge.nonce, dialerNonce: nonce })
  socket.send(encodeHandshake({ t: 'auth', v: 1, cluster: clusterId, node: init.nodeId, target: init.target, incarnation, nonce, proof }))
  const welcome = await next()
  return { socket, accepted: welcome !== undefined, closeCode: () => closeCode }
}
