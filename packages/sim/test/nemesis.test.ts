import { describe, expect, it } from 'vitest'
import { constant, createNemesis, createSimCluster, createSimulation, type SimCluster } from '../src/index.js'

function cluster (seed: number): SimCluster<{ id: string }> {
  const sim = createSimulation({ seed, trace: { record: true } })
  return createSimCluster(sim, {
    nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
    boot: async ({ id, transport }) => { await transport.start(); return { id } }
  })
}

describe('createNemesis', () => {
  it('runs a scripted scenario at the given times and writes it to the trace', async () => {
    const c = cluster(1)
    const nemesis = createNemesis(c)
    await Promise.all([c.startAll(), c.sim.runFor(1)])
    nemesis.script([
      { at: 100, name: 'isolate n1', run: () => { c.network.isolate('n1') } },
      { at: 200, name: 'crash n2', run: () => { c.node('n2').crash() } },
      { at: 300, name: 'heal all', run: () => { nemesis.healAll() } }
    ])
    await c.sim.runUntilTime(150)
    expect(c.network.isReachable('n1', 'n2')).toBe(false)
    await c.sim.runUntilTime(250)
    expect(c.node('n2').running).toBe(false)
    await c.sim.runUntilTime(350)
    expect(c.network.cutLinks()).toEqual([])
    expect(c.node('n2').running).toBe(true)
    expect(c.node('n2').incarnation).toBe(2)
    const lines = c.sim.trace.entries().filter((e) => e.source === 'nemesis').map((e) => `${e.time} ${e.text}`)
    expect(lines).toEqual(['100 isolate n1', '200 crash n2', '300 heal all', '300 restart n2'])
  })

  it('hits the target it is given', () => {
    const c = cluster(2)
    const nemesis = createNemesis(c, { target: () => 'n4' })
    void c.startAll()
    expect(nemesis.inject('isolate')).toBe('isolate [n4] | [n1 n2 n3 n5]')
    expect(nemesis.inject('crash-torn')).toBe('crash-torn n4')
    expect(c.node('n4').running).toBe(false)
    expect(nemesis.history).toHaveLength(2)
  })

  it('slow-node, lossy-node and slow-disk degrade the target and heal restores the previous settings', async () => {
    const c = cluster(4)
    c.network.configureLink('n1', 'n2', { loss: 0.1 })
    const nemesis = createNemesis(c, { target: () => 'n1', slowLatency: constant(400), lossyLoss: 0.75, slowDiskLatency: constant(250) })
    void c.startAll()
    expect(nemesis.inject('slow-node')).toBe('slow-node n1 (constant(400ms))')
    expect(nemesis.inject('lossy-node')).toBe('lossy-node n1 (loss 0.75)')
    expect(c.network.linkOverride('n3', 'n1')?.latency?.description).toBe('constant(400ms)')
    expect(c.network.linkOverride('n3', 'n1')?.loss).toBe(0.75)
    expect(c.network.linkOverride('n1', 'n2')?.loss).toBe(0.75)
    expect(c.network.linkOverride('n2', 'n3')).toBeUndefined()
    expect(nemesis.inject('slow-disk')).toBe('slow-disk n1 (fsync constant(250ms))')
    const log = c.node('n1').disk.log()
    await log.start()
    const started = c.sim.now()
    await Promise.all([log.append([{ index: 1, term: 1, type: 'noop', data: new Uint8Array() }]), c.sim.runUntilQuiet()])
    expect(c.sim.now() - started).toBe(250)
    nemesis.healAll()
    expect(c.sim.trace.format()).toContain('fsync latency restored')
    expect(c.network.linkOverride('n3', 'n1')).toBeUndefined()
    expect(c.network.linkOverride('n1', 'n2')).toEqual({ loss: 0.1 })
  })

  it('a random schedule injects one fault at a time, heals each, and leaves everything healed when stopped', async () => {
    const c = cluster(3)
    const nemesis = createNemesis(c, { interval: constant(100), duration: constant(300) })
    void c.startAll()
    let maxDown = 0
    let overlapping = false
    c.sim.invariant('one fault at a time', () => {
      const down = c.nodes().filter((node) => !node.running).length
      maxDown = Math.max(maxDown, down)
      if (down > 0 && c.network.cutLinks().length > 0) overlapping = true
      return down <= 1
    })
    nemesis.start({ until: 10_000 })
    await c.sim.runUntilTime(10_000)
    nemesis.stop()
    await c.sim.runFor(10)
    // 100 ms quiet + 300 ms fault: 25 faults in 10 s.
    expect(nemesis.history).toHaveLength(25)
    expect(new Set(nemesis.history.map((line) => line.split(' ')[0])).size).toBeGreaterThanOrEqual(5)
    expect(maxDown).toBe(1)
    expect(overlapping).toBe(false)
    expect(c.running()).toHaveLength(5)
    expect(c.network.cutLinks()).toEqual([])
  })
})
