import { describe, expect, it } from 'vitest'
import { createNemesis, createSimCluster, createSimulation, uniform, type SimNodeContext } from '../src/index.js'

interface Gossip { counter: number }

/** A small app that uses every simulated resource: timers, random, network and disk. */
async function bootGossip (context: SimNodeContext<Gossip>): Promise<{ counter: () => number }> {
  const state = context.disk.hardState<{ counter: number }>()
  await state.start()
  let counter = (await state.load())?.counter ?? 0
  context.transport.onMessage((_from, message) => {
    if (message.counter > counter) {
      counter = message.counter
      void state.save({ counter })
    }
  })
  await context.transport.start()
  const tick = (): void => {
    counter += 1 + context.random.int(3)
    void state.save({ counter })
    for (const peer of context.transport.peers()) context.transport.send(peer, { counter })
    context.clock.setTimeout(tick, 50 + context.random.int(100))
  }
  context.clock.setTimeout(tick, context.random.int(100))
  return { counter: () => counter }
}

async function runOnce (seed: number): Promise<{ trace: string, digest: string, events: number }> {
  const sim = createSimulation({ seed, trace: { record: true } })
  const cluster = createSimCluster(sim, {
    nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
    network: { latency: uniform(1, 30), loss: 0.05, duplicate: 0.02, reorder: 0.1 },
    boot: bootGossip
  })
  void cluster.startAll()
  const nemesis = createNemesis(cluster, { interval: uniform(100, 500), duration: uniform(100, 800) })
  nemesis.start({ until: 8000 })
  await sim.runUntilTime(10_000)
  return { trace: sim.trace.format(), digest: sim.trace.digest(), events: sim.stats.events }
}

describe('determinism', () => {
  it('the same seed gives the identical trace; another seed gives another', async () => {
    const first = await runOnce(1234)
    const second = await runOnce(1234)
    expect(first.events).toBeGreaterThan(1000)
    expect(second.trace).toBe(first.trace)
    expect(second.digest).toBe(first.digest)
    const other = await runOnce(1235)
    expect(other.digest).not.toBe(first.digest)
    // The trace is readable: faults, crashes and deliveries are all there.
    expect(first.trace).toMatch(/nemesis +(partition-halves|isolate|bridge|majority-ring|one-way|crash|crash-torn|kill)/)
    expect(first.trace).toMatch(/net +n\d -> n\d \{"counter":\d+\}/)
  })
})

describe('createSimCluster', () => {
  it('a crash stops the process: its timers no longer fire and it no longer sends or receives', async () => {
    const sim = createSimulation({ seed: 2, trace: { record: true } })
    const cluster = createSimCluster(sim, { nodes: ['a', 'b'], boot: bootGossip })
    await Promise.all([cluster.startAll(), sim.runFor(1)])
    await sim.runFor(1000)
    const a = cluster.node('a')
    const frozen = a.app!.counter()
    expect(frozen).toBeGreaterThan(0)
    a.crash()
    expect(a.running).toBe(false)
    expect(a.app).toBeUndefined()
    const deliveredBefore = cluster.network.stats.delivered
    await sim.runFor(1000)
    // The dead incarnation's closure is untouched: no timer of it ran, no message reached it.
    expect(sim.trace.entries().filter((e) => e.time > 1001 && e.text.startsWith('a -> ')).length).toBe(0)
    expect(cluster.network.stats.undeliverable).toBeGreaterThan(0)
    expect(cluster.network.stats.delivered).toBe(deliveredBefore)
  })

  it('a restarted process recovers what was synced and runs again on a new incarnation', async () => {
    const sim = createSimulation({ seed: 3 })
    const cluster = createSimCluster(sim, { nodes: ['a'], boot: bootGossip })
    void cluster.startAll()
    await sim.runFor(2000)
    const node = cluster.node('a')
    const before = node.app!.counter()
    await sim.runUntilQuiet() // let the last save reach the platter
    node.crash()
    void node.start()
    await sim.runFor(1)
    expect(node.incarnation).toBe(2)
    expect(node.app!.counter()).toBe(before)
    await sim.runFor(1000)
    expect(node.app!.counter()).toBeGreaterThan(before)
  })

  it('a boot that throws fails the run; starting a running node rejects with ERR_LOCKED', async () => {
    const sim = createSimulation({ seed: 5 })
    const cluster = createSimCluster(sim, {
      nodes: ['ok', 'broken'],
      boot: ({ id }) => { if (id === 'broken') throw new Error('cannot open the data directory'); return id }
    })
    void cluster.startAll()
    const failure = await sim.runFor(10).then(() => undefined, (err: unknown) => err as { code: string, message: string })
    expect(failure?.code).toBe('ERR_SIMULATION_FAILED')
    expect(failure?.message).toContain('node broken failed to boot: cannot open the data directory')
    await expect(cluster.node('ok').start()).rejects.toMatchObject({ code: 'ERR_LOCKED' })
    expect(() => cluster.node('nope')).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }))
  })

  it('addNode adds a machine that knows every node, and that restarted nodes know', async () => {
    const sim = createSimulation({ seed: 6 })
    const cluster = createSimCluster(sim, {
      nodes: ['n1', 'n2'],
      boot: async ({ transport }) => { await transport.start(); return transport }
    })
    await Promise.all([cluster.startAll(), sim.runFor(1)])
    const added = cluster.addNode('n3')
    expect(cluster.ids).toEqual(['n1', 'n2', 'n3'])
    expect(() => cluster.addNode('n3')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    await Promise.all([added.start(), sim.runFor(1)])
    expect(added.transport?.peers()).toEqual(['n1', 'n2'])
    expect(cluster.node('n1').transport?.peers()).toEqual(['n2'])
    await Promise.all([cluster.node('n1').restart(), sim.runFor(1)])
    expect(cluster.node('n1').transport?.peers()).toEqual(['n2', 'n3'])
  })

  it('clock drift makes a node\'s timers run fast or slow', async () => {
    const sim = createSimulation({ seed: 4 })
    const fired: Record<string, number> = {}
    const cluster = createSimCluster(sim, {
      nodes: ['exact', 'fast'],
      clocks: { fast: { rate: 2 } },
      boot: ({ id, clock }) => { clock.setTimeout(() => { fired[id] = sim.now() }, 1000) }
    })
    void cluster.startAll()
    await sim.runFor(2000)
    expect(fired).toEqual({ exact: 1000, fast: 500 })
  })
})
