/**
 * Compliance suite for the `Transport` contract (`@synod/interfaces`).
 *
 * A transport is only meaningful between several nodes, so the instance under test is a
 * {@link TransportTestNetwork}: a factory of transports that can reach one another. The suite creates
 * nodes, wires their addresses with `addPeer`, and checks what the contract promises: delivery of
 * plain data (including binary), FIFO order per link (per lane: bulk messages may be overtaken by
 * control messages, which is the point of the bulk lane), reconnection after a peer restarts, idempotent
 * `start`/`stop`, listener removal through an AbortSignal, and that bad input on one connection never
 * disturbs the others. Behaviours an implementation may not have (events, bounded queues, a wire
 * that a stranger can write garbage to, a bulk lane) are capability flags.
 *
 * Waiting is done by polling a condition, never by asserting on elapsed time. A simulated network
 * with virtual time supplies `advance()`, which the suite calls between polls.
 *
 * @example
 * ```ts
 * import { transportSuite } from '@synod/compliance/transport'
 *
 * transportSuite({
 *   setup: async () => createMyTestNetwork(),
 *   teardown: async (network) => { await network.close() },
 *   capabilities: { events: true, rawInput: true }
 * })
 * ```
 */
import { describe, expect, it } from 'vitest'
import type { NodeId, Transport, TransportEvents } from '@synod/interfaces'
import { withCapabilities, type TestSetup } from './index.js'
import { seededBytes, seededRandom } from './internal/seeded-random.js'

/** A transport created by the test network together with the address peers use to reach it. */
export interface TransportTestNode<M = unknown> {
  readonly id: NodeId
  readonly transport: Transport<M>
  /** The address other nodes pass to `addPeer` for this node. Called after `start()`. */
  address(): string
}

/** A connection opened by a stranger (no credentials) straight to a node's wire. */
export interface RawConnection {
  /** Writes one frame exactly as given. Never throws, even after the connection closed. */
  send(frame: Uint8Array): void
  /** True once either side closed the connection. */
  readonly closed: boolean
  /** Closes the connection from the stranger's side. */
  close(): Promise<void>
}

/** What the suite needs from an implementation: a way to make nodes that can reach each other. */
export interface TransportTestNetwork<M = unknown> {
  /**
   * Creates a fresh, unstarted transport for node `id`. Calling it again with an id whose previous
   * transport was stopped models a restarted process (same id, possibly a new address).
   */
  createNode(id: NodeId): Promise<TransportTestNode<M>>
  /**
   * Moves a simulated network forward (delivers what is in flight, advances virtual time). Networks
   * on real time omit it; the suite then yields to the event loop between polls.
   */
  advance?(): Promise<void> | void
  /** Opens an unauthenticated connection to `node`'s wire. Required by the `rawInput` capability. */
  connectRaw?(node: TransportTestNode<M>): Promise<RawConnection>
  /** Releases everything the network created that is still running (the suite also stops nodes). */
  close?(): Promise<void>
}

/** Optional behaviours of a transport. Tests of unclaimed behaviours are skipped. */
export interface TransportCapabilities {
  /** Emits 'peer:connect' and 'peer:disconnect'. @default true */
  events: boolean
  /** A stopped node can be replaced by a new one with the same id that peers reach again. @default true */
  restart: boolean
  /**
   * Send queues are bounded: sending to a known but unreachable peer eventually returns false, and
   * a 'drain' event follows once the peer becomes reachable. @default false
   */
  boundedQueue: boolean
  /**
   * A stranger can open a raw connection (`connectRaw`) and write arbitrary bytes; the node must
   * close that connection with 'peer:error' (`ERR_BAD_FRAME` or `ERR_UNAUTHORIZED`) and keep serving
   * its peers. @default false
   */
  rawInput: boolean
  /**
   * The largest frame the node accepts, when it enforces one; with `rawInput`, the suite sends a
   * frame one byte larger and expects the connection to be closed. 0 means no limit is claimed.
   * @default 0
   */
  maxFrameBytes: number
  /**
   * Small messages sent after a backlog of bulk messages (`{ bulk: true }`) reach the peer before the
   * backlog has been delivered in full. @default false
   */
  bulkPriority: boolean
  /** How many random frames the raw-input fuzz writes (0 skips it). @default 200 */
  fuzzFrames: number
  /** Seed of the suite's pseudo-random generator (fuzz bytes). @default 1 */
  seed: number
  /** How long a poll waits for a condition before failing, in real milliseconds. @default 10000 */
  waitTimeoutMs: number
}

const defaultCapabilities: TransportCapabilities = {
  events: true,
  restart: true,
  boundedQueue: false,
  rawInput: false,
  maxFrameBytes: 0,
  bulkPriority: false,
  fuzzFrames: 200,
  seed: 1,
  waitTimeoutMs: 10_000
}

interface Received<M> { from: NodeId, message: M }

/** Everything a test created; the suite stops it all in `afterEach` style cleanup. */
interface Harness<M> {
  network: TransportTestNetwork<M>
  caps: TransportCapabilities
  nodes: Array<TransportTestNode<M>>
  /** Creates and starts a node, records what it receives. */
  node(id: NodeId): Promise<{ node: TransportTestNode<M>, inbox: Array<Received<M>> }>
  /** Calls addPeer in both directions. */
  link(a: TransportTestNode<M>, b: TransportTestNode<M>): void
  waitFor(condition: () => boolean, what: string): Promise<void>
}

function makeHarness<M> (network: TransportTestNetwork<M>, caps: TransportCapabilities): Harness<M> {
  const nodes: Array<TransportTestNode<M>> = []
  const harness: Harness<M> = {
    network,
    caps,
    nodes,
    async node (id) {
      const node = await network.createNode(id)
      nodes.push(node)
      const inbox: Array<Received<M>> = []
      node.transport.onMessage((from, message) => { inbox.push({ from, message }) })
      await node.transport.start()
      return { node, inbox }
    },
    link (a, b) {
      a.transport.addPeer(b.id, b.address())
      b.transport.addPeer(a.id, a.address())
    },
    async waitFor (condition, what) {
      const deadline = Date.now() + caps.waitTimeoutMs
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await network.advance?.()
        await new Promise<void>((resolve) => setTimeout(resolve, network.advance === undefined ? 5 : 0))
      }
    }
  }
  return harness
}

function collect<K extends keyof TransportEvents> (transport: Transport<unknown>, type: K): Array<TransportEvents[K]> {
  const seen: Array<TransportEvents[K]> = []
  transport.addEventListener(type, (event) => { seen.push(event.detail) })
  return seen
}

/**
 * Keeps sending numbered messages from `from` to `to` until one arrives; needed after a restart,
 * where messages sent while the link re-forms may be lost (the contract allows loss).
 */
async function sendUntilDelivered<M> (h: Harness<M>, from: TransportTestNode<M>, to: NodeId, inbox: Array<Received<M>>, make: (seq: number) => M, what: string): Promise<void> {
  let seq = 0
  const before = inbox.length
  const deadline = Date.now() + h.caps.waitTimeoutMs
  while (inbox.length === before) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    from.transport.send(to, make(seq++))
    await h.network.advance?.()
    await new Promise<void>((resolve) => setTimeout(resolve, h.network.advance === undefined ? 20 : 0))
  }
}

/** Registers the transport compliance tests. */
export function transportSuite<M = unknown> (setup: TestSetup<TransportTestNetwork<M>, TransportCapabilities>): void {
  const caps = withCapabilities(setup.capabilities, defaultCapabilities)

  /** Runs `body` with a fresh network; stops every node and tears the network down afterwards. */
  const withNetwork = (body: (h: Harness<M>) => Promise<void>) => async (): Promise<void> => {
    const network = await setup.setup()
    const h = makeHarness(network, caps)
    try {
      await body(h)
    } finally {
      for (const node of h.nodes) await node.transport.stop()
      await network.close?.()
      await setup.teardown(network)
    }
  }

  // The suite sends plain data; a transport typed for a narrower message type is tested with
  // values outside it only through this cast.
  const msg = (value: unknown): M => value as M

  describe('transport compliance', () => {
    describe('lifecycle', () => {
      it('start and stop are idempotent', withNetwork(async (h) => {
        const { node } = await h.node('a')
        await node.transport.start()
        await node.transport.stop()
        await node.transport.stop()
      }))

      it('reports its local id and known peers, excluding itself', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        expect(a.transport.localId).toBe('a')
        expect(a.transport.peers()).toEqual([])
        const { node: b } = await h.node('b')
        const { node: c } = await h.node('c')
        a.transport.addPeer('b', b.address())
        a.transport.addPeer('c', c.address())
        a.transport.addPeer('b', b.address())
        expect([...a.transport.peers()].sort()).toEqual(['b', 'c'])
        a.transport.removePeer('c')
        expect(a.transport.peers()).toEqual(['b'])
      }))

      it('send returns false for an unknown or removed peer', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b } = await h.node('b')
        expect(a.transport.send('nobody', msg({ x: 1 }))).toBe(false)
        h.link(a, b)
        a.transport.removePeer('b')
        expect(a.transport.send('b', msg({ x: 1 }))).toBe(false)
      }))

      it('send returns false after stop and nothing is delivered by a stopped node', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox: inboxB } = await h.node('b')
        h.link(a, b)
        a.transport.send('b', msg({ seq: 0 }))
        await h.waitFor(() => inboxB.length === 1, 'the first message')
        await a.transport.stop()
        expect(a.transport.send('b', msg({ seq: 1 }))).toBe(false)
        // b keeps working for other peers after a stopped
        const { node: c, inbox: inboxC } = await h.node('c')
        h.link(b, c)
        b.transport.send('c', msg({ hello: 'c' }))
        await h.waitFor(() => inboxC.length === 1, 'b to reach c after a stopped')
        expect(inboxB).toHaveLength(1)
      }))
    })

    describe('delivery', () => {
      it('delivers plain data intact, with the sender id', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        h.link(a, b)
        const values: unknown[] = [
          null, true, false, 0, -1, 2 ** 40, 3.5, -0.25, '', 'héllo ✓ 世界',
          [], [1, 'two', [3]], {}, { type: 'append', term: 7, entries: [{ index: 1, data: 'x' }] },
          { nested: { deeper: { list: [null, false, 'x'] } } }
        ]
        for (const value of values) expect(a.transport.send('b', msg(value))).toBe(true)
        await h.waitFor(() => inbox.length === values.length, 'every value')
        expect(inbox.map((r) => r.from)).toEqual(values.map(() => 'a'))
        expect(inbox.map((r) => r.message)).toEqual(values)
      }))

      it('delivers binary payloads byte for byte as Uint8Array', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        h.link(a, b)
        const small = Uint8Array.from([0, 1, 2, 254, 255])
        const large = new Uint8Array(256 * 1024)
        for (let i = 0; i < large.length; i++) large[i] = (i * 31) & 0xff
        a.transport.send('b', msg({ kind: 'small', data: small }))
        a.transport.send('b', msg({ kind: 'large', data: large }), { bulk: true })
        a.transport.send('b', msg(new Uint8Array(0)))
        await h.waitFor(() => inbox.length === 3, 'three binary messages')
        // The bulk message travels on its own lane and may arrive after later control messages.
        const kind = (k: string): unknown => inbox.map((r) => r.message as unknown).find((m) => (m as { kind?: unknown } | null)?.kind === k)
        const firstData = (kind('small') as { data: unknown }).data
        const secondData = (kind('large') as { data: unknown }).data
        const third = inbox.map((r) => r.message as unknown).find((m) => m instanceof Uint8Array)
        expect(firstData).toBeInstanceOf(Uint8Array)
        expect(Array.from(firstData as Uint8Array)).toEqual(Array.from(small))
        expect(secondData).toBeInstanceOf(Uint8Array)
        expect((secondData as Uint8Array).length).toBe(large.length)
        expect(Buffer.from(secondData as Uint8Array).equals(Buffer.from(large))).toBe(true)
        expect(third).toBeInstanceOf(Uint8Array)
        expect((third as Uint8Array).length).toBe(0)
      }))

      it('delivers in both directions over one link', withNetwork(async (h) => {
        const { node: a, inbox: inboxA } = await h.node('a')
        const { node: b, inbox: inboxB } = await h.node('b')
        h.link(a, b)
        a.transport.send('b', msg('ping'))
        await h.waitFor(() => inboxB.length === 1, 'ping')
        b.transport.send('a', msg('pong'))
        await h.waitFor(() => inboxA.length === 1, 'pong')
        expect(inboxA[0]).toEqual({ from: 'b', message: 'pong' })
      }))

      it('keeps per-link FIFO order, also with several senders at once', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b } = await h.node('b')
        const { node: c, inbox } = await h.node('c')
        h.link(a, c)
        h.link(b, c)
        const count = 300
        // Spread the sends over several event-loop turns so batching boundaries fall mid-stream.
        for (let turn = 0; turn < 6; turn++) {
          for (let i = turn * 50; i < (turn + 1) * 50; i++) {
            a.transport.send('c', msg({ seq: i }))
            b.transport.send('c', msg({ seq: i }))
          }
          await new Promise<void>((resolve) => setTimeout(resolve, 0))
        }
        await h.waitFor(() => inbox.length === 2 * count, `${2 * count} messages`)
        for (const sender of ['a', 'b']) {
          const seqs = inbox.filter((r) => r.from === sender).map((r) => (r.message as { seq: number }).seq)
          expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i))
        }
      }))

      it('connects many peers to one node concurrently (simultaneous dials resolve)', withNetwork(async (h) => {
        const nodes = await Promise.all(['n1', 'n2', 'n3', 'n4'].map(async (id) => h.node(id)))
        for (const x of nodes) for (const y of nodes) if (x !== y) x.node.transport.addPeer(y.node.id, y.node.address())
        // Everyone sends to everyone in the same turn, so pairs dial each other at the same moment.
        for (const x of nodes) for (const y of nodes) if (x !== y) x.node.transport.send(y.node.id, msg({ from: x.node.id, n: 0 }))
        for (const x of nodes) for (const y of nodes) if (x !== y) x.node.transport.send(y.node.id, msg({ from: x.node.id, n: 1 }))
        for (const { inbox } of nodes) await h.waitFor(() => inbox.length >= 6, 'messages from every peer')
        // Then each link keeps working after the dust has settled, in both directions.
        for (const x of nodes) for (const y of nodes) if (x !== y) x.node.transport.send(y.node.id, msg({ from: x.node.id, n: 2 }))
        for (const { node, inbox } of nodes) {
          await h.waitFor(() => new Set(inbox.filter((r) => (r.message as { n: number }).n === 2).map((r) => r.from)).size === 3, `round 2 at ${node.id}`)
          for (const r of inbox) expect(r.from).toBe((r.message as { from: string }).from)
          for (const peer of ['n1', 'n2', 'n3', 'n4']) {
            const ns = inbox.filter((r) => r.from === peer).map((r) => (r.message as { n: number }).n)
            expect([...ns].sort((p, q) => p - q)).toEqual(ns)
          }
        }
      }))
    })

    describe('handlers and listeners', () => {
      it('a removed message handler receives nothing more', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        const extra: unknown[] = []
        const off = b.transport.onMessage((_from, message) => { extra.push(message) })
        h.link(a, b)
        a.transport.send('b', msg(1))
        await h.waitFor(() => inbox.length === 1 && extra.length === 1, 'the first message at both handlers')
        off()
        a.transport.send('b', msg(2))
        await h.waitFor(() => inbox.length === 2, 'the second message')
        expect(extra).toEqual([1])
      }))

      it.skipIf(!caps.events)('an aborted listener signal removes the event listener', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b } = await h.node('b')
        const controller = new AbortController()
        const connects: string[] = []
        a.transport.addEventListener('peer:connect', (event) => { connects.push(event.detail.peer) }, { signal: controller.signal })
        controller.abort()
        const after = collect(a.transport, 'peer:connect')
        h.link(a, b)
        a.transport.send('b', msg('x'))
        await h.waitFor(() => after.length >= 1, 'peer:connect')
        expect(connects).toEqual([])
      }))
    })

    describe.skipIf(!caps.events)('events', () => {
      it('emits peer:connect and, when the peer stops, peer:disconnect', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        const connects = collect(a.transport, 'peer:connect')
        const disconnects = collect(a.transport, 'peer:disconnect')
        h.link(a, b)
        a.transport.send('b', msg('x'))
        await h.waitFor(() => inbox.length === 1, 'delivery')
        await h.waitFor(() => connects.some((c) => c.peer === 'b'), 'peer:connect for b')
        await b.transport.stop()
        await h.waitFor(() => disconnects.some((d) => d.peer === 'b'), 'peer:disconnect for b')
        expect(typeof disconnects[0]?.reason).toBe('string')
      }))
    })

    describe.skipIf(!caps.restart)('restart', () => {
      it('reconnects after a peer restarts with the same id', withNetwork(async (h) => {
        const { node: a, inbox: inboxA } = await h.node('a')
        const { node: b, inbox: inboxB } = await h.node('b')
        h.link(a, b)
        a.transport.send('b', msg({ before: true }))
        await h.waitFor(() => inboxB.length === 1, 'delivery before the restart')
        await b.transport.stop()
        const { node: b2, inbox: inboxB2 } = await h.node('b')
        h.link(a, b2)
        await sendUntilDelivered(h, a, 'b', inboxB2, (seq) => msg({ after: seq }), 'a to reach the restarted b')
        expect(inboxB2.every((r) => r.from === 'a')).toBe(true)
        expect(inboxB).toHaveLength(1)
        const before = inboxA.length
        b2.transport.send('a', msg({ reply: true }))
        await h.waitFor(() => inboxA.length > before, 'the restarted b to reach a')
        expect(inboxA.at(-1)).toEqual({ from: 'b', message: { reply: true } })
      }))

      it('the restarted peer reaches a node that has not noticed the restart yet', withNetwork(async (h) => {
        const { node: a, inbox: inboxA } = await h.node('a')
        const { node: b, inbox: inboxB } = await h.node('b')
        h.link(a, b)
        b.transport.send('a', msg('hello'))
        await h.waitFor(() => inboxA.length === 1, 'delivery before the restart')
        await b.transport.stop()
        const { node: b2 } = await h.node('b')
        h.link(a, b2)
        await sendUntilDelivered(h, b2, 'a', inboxA, (seq) => msg({ again: seq }), 'the restarted b to reach a')
        expect(inboxA.every((r) => r.from === 'b')).toBe(true)
        expect(inboxB).toHaveLength(0)
      }))
    })

    describe.skipIf(!caps.boundedQueue)('backpressure', () => {
      it('drops when the queue to an unreachable peer is full, then drains once it is reachable', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b } = await h.node('b')
        const drains = collect(a.transport, 'drain')
        h.link(a, b)
        a.transport.send('b', msg('warm-up'))
        await b.transport.stop()
        // b is gone; a's queue to b must fill up and report drops instead of growing without bound.
        let accepted = 0
        let dropped = false
        for (let i = 0; i < 1_000_000 && !dropped; i++) {
          if (a.transport.send('b', msg({ i, pad: 'x'.repeat(100) }))) accepted++
          else dropped = true
        }
        expect(dropped).toBe(true)
        expect(accepted).toBeGreaterThan(0)
        const { node: b2, inbox } = await h.node('b')
        h.link(a, b2)
        await h.waitFor(() => drains.some((d) => d.peer === 'b'), 'drain for b')
        await sendUntilDelivered(h, a, 'b', inbox, (seq) => msg({ after: seq }), 'delivery after the drain')
      }))
    })

    describe.skipIf(!caps.bulkPriority)('bulk lane', () => {
      it('small messages overtake a bulk backlog', withNetwork(async (h) => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        h.link(a, b)
        a.transport.send('b', msg('warm-up'))
        await h.waitFor(() => inbox.length === 1, 'warm-up')
        const chunk = new Uint8Array(128 * 1024)
        const accepted: number[] = []
        for (let i = 0; i < 16; i++) if (a.transport.send('b', msg({ chunk: i, data: chunk }), { bulk: true })) accepted.push(i)
        expect(accepted.length).toBeGreaterThan(1)
        expect(a.transport.send('b', msg('urgent'))).toBe(true)
        await h.waitFor(() => inbox.some((r) => r.message === 'urgent'), 'the urgent message')
        const bulkBefore = inbox.slice(0, inbox.findIndex((r) => r.message === 'urgent')).filter((r) => typeof r.message === 'object').length
        expect(bulkBefore).toBeLessThan(accepted.length)
        await h.waitFor(() => inbox.length === accepted.length + 2, 'the whole bulk backlog')
        // FIFO holds within the bulk lane.
        const order = inbox.filter((r) => typeof r.message === 'object').map((r) => (r.message as { chunk: number }).chunk)
        expect(order).toEqual(accepted)
      }))
    })

    describe.skipIf(!caps.rawInput)('bad input', () => {
      /** a and b exchange messages while the test attacks c; returns a check that they still do. */
      const bystanders = async (h: Harness<M>): Promise<() => Promise<void>> => {
        const { node: a } = await h.node('a')
        const { node: b, inbox } = await h.node('b')
        h.link(a, b)
        let seq = 0
        const exchange = async (): Promise<void> => {
          const want = ++seq
          a.transport.send('b', msg({ seq: want }))
          await h.waitFor(() => inbox.some((r) => (r.message as { seq: number }).seq === want), `bystander message ${want}`)
        }
        await exchange()
        return exchange
      }

      const rawTo = async (h: Harness<M>, node: TransportTestNode<M>): Promise<RawConnection> => {
        if (h.network.connectRaw === undefined) throw new Error('the rawInput capability needs network.connectRaw')
        return h.network.connectRaw(node)
      }

      it('closes a connection that sends garbage before the handshake and keeps serving others', withNetwork(async (h) => {
        const exchange = await bystanders(h)
        const { node: c, inbox } = await h.node('c')
        const errors = collect(c.transport, 'peer:error')
        const raw = await rawTo(h, c)
        raw.send(Uint8Array.from([0xc1, 0xff, 0x00, 0x13, 0x37]))
        await h.waitFor(() => raw.closed, 'the garbage connection to be closed')
        await h.waitFor(() => errors.length >= 1, 'peer:error')
        expect(['ERR_BAD_FRAME', 'ERR_UNAUTHORIZED']).toContain(errors[0]?.code)
        expect(inbox).toEqual([])
        await exchange()
      }))

      it.skipIf(caps.maxFrameBytes <= 0)('closes a connection that sends an oversized frame', withNetwork(async (h) => {
        const exchange = await bystanders(h)
        const { node: c, inbox } = await h.node('c')
        const raw = await rawTo(h, c)
        raw.send(new Uint8Array(caps.maxFrameBytes + 1))
        await h.waitFor(() => raw.closed, 'the oversized connection to be closed')
        expect(inbox).toEqual([])
        await exchange()
      }))

      it.skipIf(caps.fuzzFrames <= 0)('survives random frames on many connections', withNetwork(async (h) => {
        const exchange = await bystanders(h)
        const { node: c, inbox } = await h.node('c')
        const randomFrame = seededBytes(seededRandom(caps.seed))
        let sent = 0
        while (sent < caps.fuzzFrames) {
          const raw = await rawTo(h, c)
          for (let i = 0; i < 10 && sent < caps.fuzzFrames; i++, sent++) raw.send(randomFrame(64))
          await raw.close()
          await exchange()
        }
        expect(inbox).toEqual([])
        // c still works for a legitimate peer.
        const { node: d } = await h.node('d')
        h.link(c, d)
        d.transport.send('c', msg('legit'))
        await h.waitFor(() => inbox.length === 1, 'a legitimate message at c')
        expect(inbox[0]).toEqual({ from: 'd', message: 'legit' })
      }))
    })
  })
}
