import { afterEach, describe, expect, it } from 'vitest'
import type { Clock } from '@synod/interfaces'
import { createWsTransport, type WsTransport, type WsTransportComponents } from '../src/index.js'
import { CLUSTER, SECRET, captureLogger, testTransport, waitFor } from './helpers.js'

const started: WsTransport[] = []
async function node<M = unknown> (id: string, init: Parameters<typeof testTransport<M>>[1] = {}, components?: WsTransportComponents): Promise<{ t: WsTransport<M>, inbox: Array<[string, M]>, events: string[] }> {
  const t = components === undefined ? testTransport<M>(id, init) : createWsTransport<M>({ nodeId: id, clusterId: CLUSTER, secret: SECRET, ...init }, components)
  const inbox: Array<[string, M]> = []
  const events: string[] = []
  t.onMessage((from, message) => { inbox.push([from, message]) })
  for (const type of ['peer:connect', 'peer:disconnect', 'peer:error', 'drain'] as const) {
    t.addEventListener(type, (event) => { events.push(`${type} ${JSON.stringify(event.detail)}`) })
  }
  await t.start()
  started.push(t)
  return { t, inbox, events }
}
function link (a: WsTransport<never> | WsTransport, b: WsTransport<never> | WsTransport): void {
  a.addPeer(b.localId, b.address!)
  b.addPeer(a.localId, a.address!)
}
afterEach(async () => {
  for (const t of started.splice(0)) await t.stop()
})

describe('WsTransport', () => {
  it('coalesces the messages of one event-loop turn into one frame', async () => {
    const a = await node('a')
    const b = await node('b')
    link(a.t, b.t)
    a.t.send('b', 'hello')
    await waitFor(() => b.inbox.length === 1, 'connection')
    const framesBefore = a.t.stats().framesSent
    for (let i = 0; i < 500; i++) a.t.send('b', { i })
    await waitFor(() => b.inbox.length === 501, 'the burst')
    expect(a.t.stats().framesSent - framesBefore).toBe(1)
    expect(b.inbox.slice(1).map(([, m]) => (m as { i: number }).i)).toEqual(Array.from({ length: 500 }, (_, i) => i))
  })

  it('closes a link whose peer sends a message the isMessage guard rejects, then recovers', async () => {
    type Msg = { type: 'ping', n: number }
    const isMsg = (value: unknown): value is Msg => typeof value === 'object' && value !== null && (value as Msg).type === 'ping' && typeof (value as Msg).n === 'number'
    const strict = await node<Msg>('strict', { isMessage: isMsg })
    const sloppy = await node('sloppy')
    link(strict.t, sloppy.t)
    sloppy.t.send('strict', { type: 'ping', n: 1 })
    await waitFor(() => strict.inbox.length === 1, 'a valid message')
    sloppy.t.send('strict', { type: 'pong', n: 'x' })
    await waitFor(() => strict.events.some((e) => e.startsWith('peer:error') && e.includes('ERR_BAD_FRAME')), 'ERR_BAD_FRAME')
    expect(strict.t.stats().badFrames).toBe(1)
    // The sender redials; valid traffic flows again.
    let n = 2
    while (!strict.inbox.some(([, m]) => m.n > 1)) {
      sloppy.t.send('strict', { type: 'ping', n: n++ })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(strict.inbox.every(([, m]) => isMsg(m))).toBe(true)
  })

  it('a new incarnation of a peer replaces the old link at once, even while the old socket is alive', async () => {
    const a = await node('a')
    const oldB = await node('b')
    link(a.t, oldB.t)
    a.t.send('b', 'to the old b')
    await waitFor(() => oldB.inbox.length === 1, 'delivery to the old b')
    // A second process with the same id (a restart whose old socket has not died yet) dials a.
    const newB = await node('b')
    link(a.t, newB.t)
    newB.t.send('a', 'i am back')
    await waitFor(() => a.inbox.length === 1, 'the new b to reach a')
    expect(a.events).toContain('peer:disconnect {"peer":"b","reason":"peer restarted"}')
    a.t.send('b', 'to the new b')
    await waitFor(() => newB.inbox.length === 1, 'delivery to the new b')
    expect(oldB.inbox).toHaveLength(1)
  })

  it('counts dropped messages and bounds the queue of an unreachable peer', async () => {
    const a = await node('a', { maxQueueMessages: 50 })
    a.t.addPeer('ghost', 'ws://127.0.0.1:9')
    let accepted = 0
    for (let i = 0; i < 200; i++) if (a.t.send('ghost', { i })) accepted++
    expect(accepted).toBe(50)
    expect(a.t.stats()).toMatchObject({ dropped: 150, queuedMessages: 50 })
    expect(a.t.send('nobody', 'x')).toBe(false)
    expect(a.t.stats().dropped).toBe(151)
    expect(a.t.send('ghost', { big: new Uint8Array(20 * 1024 * 1024) })).toBe(false)
  })

  it('retries dials with exponential backoff and jitter from the injected clock and random', async () => {
    const delays: number[] = []
    const timers: Array<() => void> = []
    const clock: Clock = {
      now: () => 0,
      setTimeout: (callback, ms) => {
        // Handshake timeouts are not under test here.
        if (ms !== 2000) {
          delays.push(ms)
          timers.push(callback)
        }
        return timers.length
      },
      clearTimeout: () => {}
    }
    const a = await node('a', { backoff: { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 }, handshakeTimeoutMs: 2000 }, { clock, random: { next: () => 0.5, int: () => 0 }, logger: captureLogger() })
    a.t.addPeer('ghost', 'ws://127.0.0.1:9')
    a.t.send('ghost', 'x')
    for (let attempt = 0; attempt < 6; attempt++) {
      await waitFor(() => timers.length > attempt, `retry ${attempt}`)
      timers[attempt]!()
    }
    // base 100, 200, 400, 800, 1000, 1000, each scaled by (1 - 0.5 * 0.5)
    expect(delays.slice(0, 6)).toEqual([75, 150, 300, 600, 750, 750])
  })

  it('drops an unencodable message, counts it, and keeps the link usable', async () => {
    const a = await node('a')
    const b = await node('b')
    link(a.t, b.t)
    a.t.send('b', 'first')
    await waitFor(() => b.inbox.length === 1, 'first')
    a.t.send('b', { fn: Symbol('not data') })
    await waitFor(() => a.t.stats().dropped === 1, 'the drop')
    let n = 0
    while (!b.inbox.some(([, m]) => typeof m === 'object')) {
      a.t.send('b', { after: n++ })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(b.inbox.every(([, m]) => typeof m === 'string' || typeof (m as { after?: unknown }).after === 'number')).toBe(true)
  })

  it('removePeer closes the link and forgets the peer', async () => {
    const a = await node('a')
    const b = await node('b')
    link(a.t, b.t)
    a.t.send('b', 'x')
    await waitFor(() => b.inbox.length === 1, 'delivery')
    a.t.removePeer('b')
    expect(a.t.peers()).toEqual([])
    expect(a.events).toContain('peer:disconnect {"peer":"b","reason":"peer removed"}')
    await waitFor(() => b.events.some((e) => e.startsWith('peer:disconnect')), 'b to notice')
  })

  it('validates its configuration', () => {
    expect(() => createWsTransport({ nodeId: '', clusterId: 'c', secret: 'x'.repeat(16) })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'nodeId' }))
    const t = createWsTransport({ nodeId: 'a', clusterId: 'c', secret: 'x'.repeat(16) })
    expect(() => { t.addPeer('b', 'http://127.0.0.1:1') }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'address' }))
    expect(t.send('b', 'x')).toBe(false)
  })
})
