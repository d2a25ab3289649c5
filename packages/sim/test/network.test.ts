import { describe, expect, it } from 'vitest'
import type { NodeId } from '@synod/interfaces'
import { constant, createSimNetwork, createSimulation, uniform, type SimNetwork, type Simulation } from '../src/index.js'

const ids = ['n1', 'n2', 'n3', 'n4', 'n5']

interface Received { from: NodeId, to: NodeId, message: unknown, at: number }

async function setup (seed = 1, options: Parameters<typeof createSimNetwork>[1] = {}): Promise<{ sim: Simulation, net: SimNetwork, received: Received[] }> {
  const sim = createSimulation({ seed, trace: { record: true } })
  const net = createSimNetwork(sim, options)
  const received: Received[] = []
  for (const id of ids) {
    const transport = net.endpoint(id, { peers: ids })
    transport.onMessage((from, message) => { received.push({ from, to: id, message, at: sim.now() }) })
    await transport.start()
  }
  return { sim, net, received }
}

/** Sends one message on every directed link and returns the links that delivered. */
async function probe (sim: Simulation, net: SimNetwork, received: Received[]): Promise<Set<string>> {
  received.length = 0
  const endpoints = new Map(ids.map((id) => [id, net.endpoint(id, { peers: ids })]))
  for (const [id, endpoint] of endpoints) {
    endpoint.onMessage((from, message) => { received.push({ from, to: id, message, at: sim.now() }) })
    await endpoint.start()
  }
  for (const [from, endpoint] of endpoints) for (const to of ids) if (to !== from) endpoint.send(to, `${from}>${to}`)
  await sim.runUntilQuiet()
  return new Set(received.map((r) => `${r.from}>${r.to}`))
}

function allLinks (): string[] {
  return ids.flatMap((from) => ids.filter((to) => to !== from).map((to) => `${from}>${to}`))
}

/** The links that must be cut, computed independently of the implementation from the sides. */
function expectExactly (delivered: Set<string>, cut: (from: NodeId, to: NodeId) => boolean): void {
  for (const link of allLinks()) {
    const [from, to] = link.split('>') as [NodeId, NodeId]
    expect({ link, delivered: delivered.has(link) }).toEqual({ link, delivered: !cut(from, to) })
  }
}

describe('createSimNetwork', () => {
  it('delivers after the link latency, in FIFO order per link, as copies', async () => {
    const { sim, net, received } = await setup(1, { latency: uniform(1, 50) })
    const a = net.endpoint('a', { peers: ['b'] })
    const b = net.endpoint('b', { peers: ['a'] })
    const got: Array<{ n: number }> = []
    b.onMessage((_from, message) => { got.push(message as { n: number }) })
    await a.start(); await b.start()
    const sent = Array.from({ length: 50 }, (_, n) => ({ n }))
    for (const message of sent) expect(a.send('b', message)).toBe(true)
    sent[0]!.n = 999
    await sim.runUntilQuiet()
    expect(got.map((m) => m.n)).toEqual(Array.from({ length: 50 }, (_, n) => n))
    expect(sim.now()).toBeGreaterThanOrEqual(1)
    expect(received).toEqual([])
  })

  it('refuses to send to unknown peers or while stopped', async () => {
    const { net } = await setup()
    const lonely = net.endpoint('lonely')
    await lonely.start()
    expect(lonely.send('n1', 'x')).toBe(false)
    lonely.addPeer('n1', 'sim://n1')
    expect(lonely.send('n1', 'x')).toBe(true)
    await lonely.stop()
    expect(lonely.send('n1', 'x')).toBe(false)
  })

  it('loses, duplicates and reorders messages at the configured rates', async () => {
    const { sim, net, received } = await setup(5, { latency: uniform(1, 20), loss: 0.2, duplicate: 0.1, reorder: 0.5 })
    const sender = net.endpoint('n1', { peers: ids })
    await sender.start()
    for (let i = 0; i < 2000; i++) sender.send('n2', i)
    await sim.runUntilQuiet()
    const numbers = received.map((r) => r.message as number)
    expect(net.stats.lost).toBeGreaterThan(300)
    expect(net.stats.lost).toBeLessThan(500)
    expect(net.stats.duplicated).toBeGreaterThan(100)
    expect(numbers.length).toBe(2000 - net.stats.lost + net.stats.duplicated)
    expect(new Set(numbers).size).toBe(2000 - net.stats.lost)
    const outOfOrder = numbers.filter((n, i) => i > 0 && n < numbers[i - 1]!).length
    expect(outOfOrder).toBeGreaterThan(0)
  })

  it('keeps FIFO order when reordering is off even with random latency', async () => {
    const { sim, net, received } = await setup(6, { latency: uniform(1, 100), duplicate: 0 })
    const sender = net.endpoint('n1', { peers: ids })
    await sender.start()
    for (let i = 0; i < 500; i++) sender.send('n2', i)
    await sim.runUntilQuiet()
    expect(received.map((r) => r.message)).toEqual(Array.from({ length: 500 }, (_, i) => i))
  })

  it('with finite bandwidth, messages queue behind each other and small ones overtake a bulk backlog', async () => {
    const { sim, net } = await setup(1, { latency: constant(1), bandwidth: 1000 })
    const a = net.endpoint('a', { peers: ['b'] })
    const b = net.endpoint('b', { peers: ['a'] })
    const got: Array<[string, number]> = []
    b.onMessage((_from, message) => { got.push([message instanceof Uint8Array ? `bulk ${message[0]}` : String(message), sim.now()]) })
    await a.start(); await b.start()
    for (let i = 0; i < 3; i++) a.send('b', new Uint8Array(10_000).fill(i), { bulk: true })
    a.send('b', 'urgent')
    await sim.runUntilQuiet()
    // 10_004 estimated bytes at 1000 bytes/ms: 10.004 ms each on the bulk lane; 'urgent' (8 bytes)
    // has the control lane to itself.
    expect(got.map(([what]) => what)).toEqual(['urgent', 'bulk 0', 'bulk 1', 'bulk 2'])
    expect(got.map(([, at]) => Number(at.toFixed(3)))).toEqual([1.008, 11.004, 21.008, 31.012])
  })

  it('applies per-link overrides', async () => {
    const { sim, net, received } = await setup(1, { latency: constant(5) })
    net.configureLink('n1', 'n2', { latency: constant(100) })
    await probe(sim, net, received)
    expect(received.find((r) => r.from === 'n1' && r.to === 'n2')?.at).toBe(100)
    expect(received.find((r) => r.from === 'n2' && r.to === 'n1')?.at).toBe(5)
  })

  it('partition(groups) cuts exactly the links between groups; nodes in no group see everyone', async () => {
    const { sim, net, received } = await setup()
    net.partition([['n1', 'n2'], ['n3', 'n4']])
    const side = (id: NodeId): number => ['n1', 'n2'].includes(id) ? 0 : ['n3', 'n4'].includes(id) ? 1 : -1
    expectExactly(await probe(sim, net, received), (from, to) => side(from) >= 0 && side(to) >= 0 && side(from) !== side(to))
  })

  it('partitionHalves splits into a minority and a majority that cannot talk', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { sim, net, received } = await setup(seed)
      const plan = net.partitionHalves()
      const [minority, majority] = plan.groups as [NodeId[], NodeId[]]
      expect(minority.length).toBe(2)
      expect(majority.length).toBe(3)
      expect([...minority, ...majority].sort()).toEqual(ids)
      expectExactly(await probe(sim, net, received), (from, to) => minority.includes(from) !== minority.includes(to))
    }
  })

  it('isolate cuts one node off both ways and nothing else', async () => {
    const { sim, net, received } = await setup()
    net.isolate('n3')
    expectExactly(await probe(sim, net, received), (from, to) => from === 'n3' || to === 'n3')
  })

  it('bridge joins two sides that cannot see each other through one node', async () => {
    for (const seed of [1, 2, 3]) {
      const { sim, net, received } = await setup(seed)
      const plan = net.bridge()
      const [left, [bridge], right] = plan.groups as [NodeId[], [NodeId], NodeId[]]
      expect([...left, bridge, ...right].sort()).toEqual(ids)
      expect(left.length + right.length).toBe(4)
      expectExactly(await probe(sim, net, received), (from, to) =>
        (left.includes(from) && right.includes(to)) || (right.includes(from) && left.includes(to)))
      // The bridge plus either side is a majority of five.
      expect(left.length + 1).toBeGreaterThanOrEqual(3)
      expect(right.length + 1).toBeGreaterThanOrEqual(3)
    }
  })

  it('majorityRing gives every node a different majority', async () => {
    const { sim, net, received } = await setup(7)
    const plan = net.majorityRing()
    const ring = plan.groups[0]!
    const delivered = await probe(sim, net, received)
    const position = (id: NodeId): number => ring.indexOf(id)
    expectExactly(delivered, (from, to) => {
      const d = Math.abs(position(from) - position(to))
      return Math.min(d, ids.length - d) > 1
    })
    const views = ids.map((id) => [id, ...ids.filter((other) => delivered.has(`${other}>${id}`))].sort().join(','))
    for (const view of views) expect(view.split(',').length).toBe(3)
    expect(new Set(views).size).toBe(ids.length)
  })

  it('oneWay cuts one direction only, and heal restores every link', async () => {
    const { sim, net, received } = await setup()
    net.oneWay(['n1'], ['n2', 'n3'])
    expectExactly(await probe(sim, net, received), (from, to) => from === 'n1' && (to === 'n2' || to === 'n3'))
    net.heal()
    expect(net.cutLinks()).toEqual([])
    expectExactly(await probe(sim, net, received), () => false)
  })

  it('a new partition replaces the old one, while cut() adds to it', async () => {
    const { net } = await setup()
    net.isolate('n1')
    net.isolate('n2')
    expect(net.isReachable('n1', 'n3')).toBe(true)
    net.cut('n4', 'n5')
    expect(net.isReachable('n2', 'n3')).toBe(false)
    expect(net.isReachable('n4', 'n5')).toBe(false)
    expect(net.isReachable('n5', 'n4')).toBe(true)
  })

  it('drops messages in flight when their link is cut before they arrive', async () => {
    const { sim, net, received } = await setup(1, { latency: constant(10) })
    net.endpoint('n1', { peers: ids })
    const sender = net.endpoint('n1', { peers: ids })
    await sender.start()
    sender.send('n2', 'early')
    sim.schedule(5, () => { net.isolate('n2') })
    await sim.runUntilQuiet()
    expect(received).toEqual([])
    expect(net.stats.cut).toBe(1)
    expect(sim.trace.format()).toContain('n1 -> n2 CUT in flight "early"')
  })

  it('a replaced endpoint stops receiving; the new one gets messages still in flight', async () => {
    const { sim, net } = await setup(1, { latency: constant(10) })
    const sender = net.endpoint('n1', { peers: ids })
    const old = net.endpoint('n2', { peers: ids })
    const oldGot: unknown[] = []
    old.onMessage((_f, m) => oldGot.push(m))
    await sender.start(); await old.start()
    sender.send('n2', 'in flight')
    const fresh = net.endpoint('n2', { peers: ids })
    const freshGot: unknown[] = []
    fresh.onMessage((_f, m) => freshGot.push(m))
    await fresh.start()
    expect(old.connected).toBe(false)
    expect(old.send('n1', 'zombie')).toBe(false)
    await sim.runUntilQuiet()
    expect(oldGot).toEqual([])
    expect(freshGot).toEqual(['in flight'])
  })
})
