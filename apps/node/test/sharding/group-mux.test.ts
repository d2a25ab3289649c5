import { createMemoryNetwork } from '@synod/sim'
import { createWsTransport } from '@synod/transport-ws'
import { describe, expect, it } from 'vitest'
import { createGroupMux, isMuxEnvelope, type GroupId, type MuxEnvelope } from '../../src/sharding/group-mux.js'

interface Ping { type: 'ping', n: number }
const isPing = (value: unknown): value is Ping => typeof value === 'object' && value !== null && (value as Ping).type === 'ping'

async function until (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function memoryPair (): { a: ReturnType<typeof createGroupMux<Ping>>, b: ReturnType<typeof createGroupMux<Ping>>, envelopesToB: () => number } {
  const network = createMemoryNetwork({ delivery: 'macrotask' })
  const baseA = network.endpoint<MuxEnvelope<Ping>>('a')
  const baseB = network.endpoint<MuxEnvelope<Ping>>('b')
  let envelopesToB = 0
  baseB.onMessage(() => { envelopesToB++ })
  return { a: createGroupMux<Ping>(baseA, { isMessage: isPing }), b: createGroupMux<Ping>(baseB, { isMessage: isPing }), envelopesToB: () => envelopesToB }
}

describe('group mux', () => {
  it('carries the messages of 1,000 groups sent in one turn in one envelope, each to its own group', async () => {
    const { a, b, envelopesToB } = memoryPair()
    const received = new Map<GroupId, number[]>()
    for (let g = 0; g < 1000; g++) {
      a.group(g).addPeer('b', 'memory://b')
      const view = b.group(g)
      view.addPeer('a', 'memory://a')
      view.onMessage((from, message) => {
        expect(from).toBe('a')
        received.set(g, [...(received.get(g) ?? []), message.n])
      })
      await view.start()
      await a.group(g).start()
    }
    await a.start()
    await b.start()
    for (let g = 0; g < 1000; g++) expect(a.group(g).send('b', { type: 'ping', n: g })).toBe(true)
    await until(() => received.size === 1000, 'every group to receive its message')
    for (let g = 0; g < 1000; g++) expect(received.get(g)).toEqual([g])
    expect(envelopesToB()).toBe(1)
    expect(a.stats()).toMatchObject({ messagesSent: 1000, envelopesSent: 1, dropped: 0 })
    expect(b.stats()).toMatchObject({ messagesReceived: 1000, envelopesReceived: 1 })
    await a.stop()
    await b.stop()
  })

  it('keeps per-group order, drops messages for groups it does not host, and refuses unknown peers', async () => {
    const { a, b } = memoryPair()
    const unknown: GroupId[] = []
    const network = createMemoryNetwork()
    const baseC = network.endpoint<MuxEnvelope<Ping>>('c')
    const c = createGroupMux<Ping>(baseC, { onUnknownGroup: (group) => { unknown.push(group) } })
    const baseD = network.endpoint<MuxEnvelope<Ping>>('d')
    const d = createGroupMux<Ping>(baseD)
    await Promise.all([a.start(), b.start(), c.start(), d.start()])

    const viewA = a.group(1)
    await viewA.start()
    expect(viewA.send('b', { type: 'ping', n: 0 })).toBe(false) // b is not a peer of group 1 yet
    viewA.addPeer('b', 'memory://b')
    const got: number[] = []
    const viewB = b.group(1)
    viewB.addPeer('a', 'memory://a')
    viewB.onMessage((_from, message) => { got.push(message.n) })
    await viewB.start()
    for (let n = 0; n < 50; n++) viewA.send('b', { type: 'ping', n })
    await until(() => got.length === 50, 'fifty messages')
    expect(got).toEqual(Array.from({ length: 50 }, (_, n) => n))

    // Group 2 exists on d only: c hears about it through onUnknownGroup.
    const viewD = d.group(2)
    viewD.addPeer('c', 'memory://c')
    await viewD.start()
    viewD.send('c', { type: 'ping', n: 1 })
    await until(() => unknown.length === 1, 'the unknown-group callback')
    expect(unknown).toEqual([2])
    await Promise.all([a.stop(), b.stop(), c.stop(), d.stop()])
  })

  it('drops peers from the base transport only when no group names them any more, and sends heartbeats as empty envelopes', async () => {
    const network = createMemoryNetwork()
    const baseA = network.endpoint<MuxEnvelope<Ping>>('a')
    const baseB = network.endpoint<MuxEnvelope<Ping>>('b')
    const a = createGroupMux<Ping>(baseA)
    const b = createGroupMux<Ping>(baseB)
    const heard: Array<[string, number]> = []
    b.onEnvelope((from, messages) => { heard.push([from, messages]) })
    await a.start()
    await b.start()
    a.group(1).addPeer('b', 'memory://b')
    a.group(2).addPeer('b', 'memory://b')
    a.group(1).removePeer('b')
    expect(baseA.peers()).toEqual(['b'])
    a.closeGroup(2)
    expect(baseA.peers()).toEqual([])
    expect(a.heartbeat('b')).toBe(false)
    a.addPeer('b', 'memory://b')
    expect(a.heartbeat('b')).toBe(true)
    await until(() => heard.length === 1, 'the heartbeat')
    expect(heard).toEqual([['a', 0]])
    expect(a.stats()).toMatchObject({ heartbeatsSent: 1, envelopesSent: 1 })
    await a.stop()
    await b.stop()
  })

  it('rejects malformed envelopes', () => {
    expect(isMuxEnvelope({ type: 'groups', groups: [1], messages: [] })).toBe(false)
    expect(isMuxEnvelope({ type: 'groups', groups: [1.5], messages: [{}] })).toBe(false)
    expect(isMuxEnvelope({ type: 'groups', groups: [3], messages: [{}] })).toBe(true)
    expect(isMuxEnvelope('groups')).toBe(false)
  })

  it('runs over transport-ws on loopback: 500 groups, one frame per flush', async () => {
    const secret = 'a shared cluster secret, 16+ bytes'
    const baseA = createWsTransport<MuxEnvelope<Ping>>({ nodeId: 'a', clusterId: 'mux-test', secret, isMessage: isMuxEnvelope })
    const baseB = createWsTransport<MuxEnvelope<Ping>>({ nodeId: 'b', clusterId: 'mux-test', secret, isMessage: isMuxEnvelope })
    const a = createGroupMux<Ping>(baseA, { isMessage: isPing })
    const b = createGroupMux<Ping>(baseB, { isMessage: isPing })
    await a.start()
    await b.start()
    const received = new Map<GroupId, number>()
    for (let g = 0; g < 500; g++) {
      const view = a.group(g)
      view.addPeer('b', baseB.address as string)
      await view.start()
      const other = b.group(g)
      other.addPeer('a', baseA.address as string)
      other.onMessage((_from, message) => { received.set(g, (received.get(g) ?? 0) + message.n) })
      await other.start()
    }
    // Connect first, so the rounds below are measured on an open connection.
    a.heartbeat('b')
    await until(() => b.stats().envelopesReceived === 1, 'the first heartbeat over the socket')
    const framesBefore = baseA.stats().framesSent
    for (let round = 1; round <= 3; round++) {
      for (let g = 0; g < 500; g++) a.group(g).send('b', { type: 'ping', n: round })
      await until(() => b.stats().messagesReceived === 500 * round, `round ${round}`)
    }
    expect(baseA.stats().framesSent - framesBefore).toBe(3)
    for (let g = 0; g < 500; g++) expect(received.get(g)).toBe(6)
    await a.stop()
    await b.stop()
  })
})
