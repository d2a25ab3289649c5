/**
 * Benchmarks of the simulator: how fast the event loop turns, what the async drain costs, how fast
 * simulated messages move, how much faster than real time a workload runs, and the in-memory
 * network's throughput. Each table has its baseline in the same run; compare ratios, not absolutes.
 */
import { createMemoryNetwork, createSimNetwork, createSimulation, registerWorkload, runSeed, uniform } from '../src/index.js'

interface Row { case: string, ops: number, ms: number }

function table (title: string, rows: Row[], unit: string): void {
  const base = rows[0]
  console.log(`\n${title}`)
  console.table(rows.map((row) => ({
    case: row.case,
    [`${unit}/s`]: Math.round(row.ops / (row.ms / 1000)).toLocaleString('en-US'),
    'wall ms': row.ms.toFixed(1),
    'vs first': base === undefined ? '' : `${((row.ops / row.ms) / (base.ops / base.ms)).toFixed(2)}x`
  })))
}

interface Case { name: string, ops: number, body: () => Promise<void> | void }

/**
 * Runs every case once to warm up, then `rounds` rounds in which each case runs once, in turn, and
 * keeps each case's best time: interleaving spreads the machine's noise over all cases alike.
 */
async function compare (cases: Case[], rounds = 5): Promise<Row[]> {
  for (const { body } of cases) await body()
  const best = cases.map(() => Number.POSITIVE_INFINITY)
  for (let round = 0; round < rounds; round++) {
    for (const [i, { body }] of cases.entries()) {
      const start = performance.now()
      await body()
      best[i] = Math.min(best[i] as number, performance.now() - start)
    }
  }
  return cases.map(({ name, ops }, i) => ({ case: name, ops, ms: best[i] as number }))
}

async function eventLoop (): Promise<void> {
  const events = 200_000
  const timers = (sim: ReturnType<typeof createSimulation>): void => {
    let left = events
    const tick = (): void => { if (--left > 0) sim.clock.setTimeout(tick, 1) }
    sim.clock.setTimeout(tick, 1)
  }
  const rows = await compare([
    {
      name: 'step() loop, no microtask drain (pure cores)',
      ops: events,
      body: () => {
        const sim = createSimulation({ seed: 1 })
        timers(sim)
        while (sim.step()) { /* run */ }
      }
    },
    {
      name: 'runFor, drain after each event',
      ops: events,
      body: async () => {
        const sim = createSimulation({ seed: 1 })
        timers(sim)
        await sim.runFor(events + 1)
      }
    }
  ])
  table('Event loop: 200k timer events', rows, 'events')
}

async function network (): Promise<void> {
  const messages = 50_000
  const run = async (traceMessages: boolean, clone: boolean): Promise<void> => {
    const sim = createSimulation({ seed: 1 })
    const net = createSimNetwork(sim, { latency: uniform(1, 5), traceMessages, clone })
    const a = net.endpoint('a', { peers: ['b'] })
    const b = net.endpoint('b', { peers: ['a'] })
    let got = 0
    b.onMessage(() => { got++ })
    await a.start(); await b.start()
    for (let i = 0; i < messages; i++) a.send('b', { type: 'append', term: 3, index: i, entries: [] })
    await sim.runUntilQuiet({ timeout: Number.POSITIVE_INFINITY })
    if (got !== messages) throw new Error(`lost ${messages - got}`)
  }
  const rows = await compare([
    { name: 'no trace, no clone', ops: messages, body: async () => { await run(false, false) } },
    { name: 'no trace, structuredClone', ops: messages, body: async () => { await run(false, true) } },
    { name: 'traced, structuredClone (default)', ops: messages, body: async () => { await run(true, true) } }
  ], 3)
  table('Simulated network: 50k messages a -> b', rows, 'messages')
}

async function workload (): Promise<void> {
  const seeds = 10
  let simulated = 0
  const [row] = await compare([{
    name: `register workload, ${seeds} seeds x 10 s simulated`,
    ops: seeds,
    body: async () => {
      simulated = 0
      for (let seed = 0; seed < seeds; seed++) {
        const result = await runSeed(registerWorkload, seed)
        if (!result.ok) throw new Error(result.error)
        simulated += result.simulatedMs
      }
    }
  }], 3) as [Row]
  console.log('\nWorkload speed')
  console.table([{ case: row.case, 'simulated s per wall s': (simulated / row.ms).toFixed(0), 'wall ms per seed': (row.ms / seeds).toFixed(1) }])
}

async function memoryNetwork (): Promise<void> {
  const messages = 100_000
  const run = async (delivery: 'microtask' | 'macrotask', clone: boolean): Promise<void> => {
    const network = createMemoryNetwork({ delivery, clone })
    const a = network.endpoint('a', { peers: ['b'] })
    const b = network.endpoint('b', { peers: ['a'] })
    await a.start(); await b.start()
    await new Promise<void>((resolve) => {
      let got = 0
      b.onMessage(() => { if (++got === messages) resolve() })
      for (let i = 0; i < messages; i++) a.send('b', { type: 'append', term: 3, index: i })
    })
  }
  const rows = await compare([
    { name: 'microtask, no clone', ops: messages, body: async () => { await run('microtask', false) } },
    { name: 'microtask, structuredClone', ops: messages, body: async () => { await run('microtask', true) } },
    { name: 'macrotask, structuredClone (default)', ops: messages, body: async () => { await run('macrotask', true) } }
  ], 3)
  table('Memory network: 100k messages a -> b', rows, 'messages')
}

await eventLoop()
await network()
await workload()
await memoryNetwork()
