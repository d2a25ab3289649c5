import { afterEach, describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import { pack, unpack } from 'msgpackr'
import { WebSocketServer } from 'ws'
import { createWsTransport, type WsTransport } from '../src/index.js'
import { encodeHandshake, newNonce } from '../src/wire/handshake.js'
import { CLUSTER, SECRET, captureLogger, handshakeBy, rawConnect, testTransport, waitFor } from './helpers.js'

const started: WsTransport[] = []
async function start<M = unknown> (transport: WsTransport<M>): Promise<WsTransport<M>> {
  await transport.start()
  started.push(transport)
  return transport
}
afterEach(async () => {
  for (const transport of started.splice(0)) await transport.stop()
})

function errorsOf (transport: WsTransport): Array<{ peer: string | undefined, code: string, message: string }> {
  const seen: Array<{ peer: string | undefined, code: string, message: string }> = []
  transport.addEventListener('peer:error', (event) => { seen.push(event.detail) })
  return seen
}

describe('peer authentication', () => {
  it('refuses a peer with the wrong secret, logs why, and delivers nothing from it', async () => {
    const log = captureLogger()
    const server = await start(createWsTransport({ nodeId: 'b', clusterId: CLUSTER, secret: SECRET }, { logger: log }))
    const inbox: unknown[] = []
    server.onMessage((_from, message) => { inbox.push(message) })
    const errors = errorsOf(server)
    const intruder = await start(testTransport('a', { secret: 'not-the-cluster-secret-at-all' }))
    const intruderErrors = errorsOf(intruder)
    intruder.addPeer('b', server.address!)
    for (let i = 0; i < 20; i++) intruder.send('b', { type: 'append', term: 99, i })
    await waitFor(() => errors.length >= 2, 'repeated refusals (the intruder retries with backoff)')
    expect(errors.every((e) => e.code === 'ERR_UNAUTHORIZED')).toBe(true)
    expect(errors[0]?.peer).toBe('a')
    const refusal = log.lines.find((line) => line.message === 'refused peer connection')
    expect(refusal?.level).toBe('warn')
    expect(String(refusal?.fields.reason)).toMatch(/wrong secret/)
    expect(server.stats().refused).toBeGreaterThanOrEqual(2)
    expect(intruder.stats().messagesSent).toBe(0)
    expect(intruderErrors[0]).toMatchObject({ peer: 'b', code: 'ERR_UNAUTHORIZED' })
    expect(inbox).toEqual([])
  })

  it('refuses a peer from another cluster even with the right secret', async () => {
    const log = captureLogger()
    const server = await start(createWsTransport({ nodeId: 'b', clusterId: CLUSTER, secret: SECRET }, { logger: log }))
    const errors = errorsOf(server)
    const stranger = await start(testTransport('a', { clusterId: 'another-cluster' }))
    const strangerErrors = errorsOf(stranger)
    stranger.addPeer('b', server.address!)
    stranger.send('b', 'hello')
    // The dialer notices first: the challenge names a cluster it does not belong to.
    await waitFor(() => strangerErrors.length >= 1, 'the stranger to refuse b')
    expect(strangerErrors[0]).toMatchObject({ peer: 'b', code: 'ERR_UNAUTHORIZED' })
    expect(strangerErrors[0]?.message).toMatch(/cluster/)
    // A hand-made dialer that ignores the challenge's cluster is refused by the listener.
    const forged = await handshakeBy(server.address!, { nodeId: 'a', target: 'b', secret: SECRET, clusterId: 'another-cluster' })
    expect(forged.accepted).toBe(false)
    await waitFor(() => errors.length >= 1, 'the listener refusal')
    expect(errors[0]).toMatchObject({ code: 'ERR_UNAUTHORIZED' })
    expect(errors[0]?.message).toMatch(/wrong cluster id/)
  })

  it('a stranger cannot inject messages: data frames before the handshake are refused', async () => {
    const server = await start(testTransport('b'))
    const inbox: unknown[] = []
    server.onMessage((_from, message) => { inbox.push(message) })
    const errors = errorsOf(server)
    const raw = await rawConnect(server.address!)
    raw.send(pack([1, { type: 'append', term: 99 }]))
    raw.send(pack([1, { type: 'append', term: 100 }]))
    await waitFor(() => raw.closed, 'the connection to be closed')
    expect(raw.closeCode).toBe(4401)
    expect(errors[0]?.code).toBe('ERR_UNAUTHORIZED')
    expect(inbox).toEqual([])
  })

  it('a stranger cannot authenticate with a forged or replayed proof', async () => {
    const server = await start(testTransport('b'))
    const inbox: unknown[] = []
    server.onMessage((_from, message) => { inbox.push(message) })
    // Wrong secret, correct protocol.
    const wrong = await handshakeBy(server.address!, { nodeId: 'a', target: 'b', secret: 'guessed-secret-guessed-secret' })
    expect(wrong.accepted).toBe(false)
    await waitFor(() => wrong.closeCode() !== undefined, 'close')
    expect(wrong.closeCode()).toBe(4401)
    // A proof made for another connection's challenge (a replay) does not verify on this one.
    const raw = await rawConnect(server.address!)
    await waitFor(() => raw.received.length === 1, 'the challenge')
    raw.send(encodeHandshake({ t: 'auth', v: 1, cluster: CLUSTER, node: 'a', target: 'b', incarnation: 'x', nonce: newNonce(), proof: new Uint8Array(32) }))
    await waitFor(() => raw.closed, 'the replay to be refused')
    expect(raw.closeCode).toBe(4401)
    expect(inbox).toEqual([])
    expect(server.stats().refused).toBe(2)
  })

  it('a dialer refuses a listener that cannot prove the secret (an impostor)', async () => {
    // The impostor speaks the protocol but cannot compute the listener proof, so it sends a fake one.
    const impostor = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise<void>((resolve) => { impostor.once('listening', () => { resolve() }) })
    const received: Buffer[] = []
    impostor.on('connection', (socket) => {
      socket.send(encodeHandshake({ t: 'challenge', v: 1, cluster: CLUSTER, node: 'b', incarnation: 'fake', nonce: newNonce() }))
      socket.on('message', (data) => {
        received.push(data as Buffer)
        socket.send(encodeHandshake({ t: 'welcome', v: 1, proof: new Uint8Array(32) }))
      })
    })
    try {
      const honest = await start(testTransport('a'))
      const errors = errorsOf(honest)
      honest.addPeer('b', `ws://127.0.0.1:${(impostor.address() as AddressInfo).port}`)
      honest.send('b', { secret: 'data' })
      await waitFor(() => errors.length >= 1, 'a refusal')
      expect(errors[0]).toMatchObject({ peer: 'b', code: 'ERR_UNAUTHORIZED' })
      expect(errors[0]?.message).toMatch(/failed to prove/)
      expect(honest.stats().messagesSent).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 20))
      // Only handshake responses reached the impostor, never the queued message.
      for (const frame of received) expect((unpack(frame) as { t: string }).t).toBe('auth')
    } finally {
      for (const client of impostor.clients) client.terminate()
      await new Promise<void>((resolve) => { impostor.close(() => { resolve() }) })
    }
  })

  it('accepts a peer that knows the secret, and attributes messages to the authenticated id', async () => {
    const server = await start(testTransport('b'))
    const inbox: Array<[string, unknown]> = []
    server.onMessage((from, message) => { inbox.push([from, message]) })
    const peer = await handshakeBy(server.address!, { nodeId: 'a', target: 'b', secret: SECRET })
    expect(peer.accepted).toBe(true)
    peer.socket.send(pack([1, { hello: 1 }]))
    await waitFor(() => inbox.length === 1, 'delivery')
    expect(inbox[0]).toEqual(['a', { hello: 1 }])
    peer.socket.terminate()
  })

  it('rejects configuration without a usable secret', () => {
    expect(() => createWsTransport({ nodeId: 'a', clusterId: CLUSTER, secret: 'short' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
