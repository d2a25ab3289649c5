/**
 * Two-process loopback benchmark: @synod/transport-ws against a naive baseline (`ws`, one
 * `JSON.stringify` frame per message), in one run.
 *
 * For each transport a receiver runs in a child process and the sender here:
 * 1. throughput: the sender pushes 100-byte messages as fast as its flow control lets it
 *    (`send() === false` -> wait for 'drain'; baseline: wait while `bufferedAmount` > 1 MiB);
 * 2. latency at high load: both send at the same fixed rate (a share of the baseline's maximum,
 *    so the baseline is loaded but not overloaded) and the receiver records one-way latency from a
 *    timestamp in the message. Both processes read CLOCK_MONOTONIC (`process.hrtime`), shared by the
 *    processes of one machine.
 * Then a codec table shows what msgpackr records buy on Raft-shaped messages.
 *
 * Usage: pnpm bench transport-ws [-- --seconds 3 --rounds 2 --rate 50000]
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Packr, Unpackr } from 'msgpackr'
import { WebSocket, WebSocketServer } from 'ws'
import { createWsTransport } from '../src/index.js'

const SECRET = 'bench-secret-bench-secret'
const CLUSTER = 'bench'
const nowMicros = (): number => Number(process.hrtime.bigint() / 1000n)
const argSeconds = process.argv.indexOf('--seconds')
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 3
const argRate = process.argv.indexOf('--rate')
/** Fixed paced rate for the latency phase; by default 60% of the first baseline maximum. */
const FIXED_RATE = argRate > 0 ? Number(process.argv[argRate + 1]) : 0
const argRounds = process.argv.indexOf('--rounds')
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 2
const PAYLOAD = 'x'.repeat(42)
const SYNOD = '@synod/transport-ws'
const BASELINE = 'baseline: ws + JSON per message'

/** A message of 100 bytes as JSON (about 90 as MessagePack). */
function message (seq: number): { t: number, seq: number, kind: string, payload: string } {
  return { t: nowMicros(), seq, kind: 'append', payload: PAYLOAD }
}

interface Report { count: number, firstMicros: number, lastMicros: number, p50: number, p99: number, max: number }

type Command = { type: 'reset' } | { type: 'report' } | { type: 'exit' }

// ---------------------------------------------------------------- receiver (child process)

function receiverMain (kind: string): void {
  let latencies = new Float64Array(1 << 22)
  let count = 0
  let first = 0
  let last = 0
  const record = (sentAt: number): void => {
    const now = nowMicros()
    if (count === 0) first = now
    last = now
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2)
      bigger.set(latencies)
      latencies = bigger
    }
    latencies[count++] = now - sentAt
  }
  const report = (): Report => {
    const sorted = latencies.slice(0, count).sort()
    const at = (q: number): number => sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0
    return { count, firstMicros: first, lastMicros: last, p50: at(0.5), p99: at(0.99), max: at(1) }
  }
  process.on('message', (command: Command) => {
    if (command.type === 'exit') process.exit(0)
    if (command.type === 'reset') {
      count = 0
      process.send?.({ type: 'reset-done' })
    } else {
      process.send?.({ type: 'report', report: report() })
    }
  })
  void (async () => {
    if (kind === 'synod') {
      const rx = createWsTransport<{ t: number }>({ nodeId: 'rx', clusterId: CLUSTER, secret: SECRET })
      rx.onMessage((_from, m) => { record(m.t) })
      await rx.start()
      process.send?.({ type: 'address', address: rx.address })
    } else {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
      wss.on('connection', (socket) => {
        socket.on('message', (data) => { record((JSON.parse((data as Buffer).toString()) as { t: number }).t) })
      })
      await new Promise<void>((resolve) => { wss.once('listening', () => { resolve() }) })
      const address = wss.address()
      process.send?.({ type: 'address', address: `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` })
    }
  })()
}

// ---------------------------------------------------------------- sender (this process)

interface Sender {
  /** Sends up to `n` messages now; returns how many were accepted. */
  burst(n: number): number
  /** Resolves when the sender may send again after a refusal. */
  ready(): Promise<void>
  close(): Promise<void>
}

async function synodSender (address: string): Promise<Sender> {
  const tx = createWsTransport({ nodeId: 'tx', clusterId: CLUSTER, secret: SECRET, listen: false, peers: { rx: address } })
  await tx.start()
  let seq = 0
  let blocked = false
  let wake: (() => void) | undefined
  tx.addEventListener('drain', () => {
    blocked = false
    wake?.()
  })
  return {
    burst (n) {
      for (let i = 0; i < n; i++) {
        if (!tx.send('rx', message(seq))) {
          blocked = true
          return i
        }
        seq++
      }
      return n
    },
    async ready () {
      if (!blocked) return new Promise((resolve) => setImmediate(resolve))
      await new Promise<void>((resolve) => { wake = resolve })
    },
    async close () { await tx.stop() }
  }
}

async function baselineSender (address: string): Promise<Sender> {
  const ws = new WebSocket(address, { perMessageDeflate: false })
  await new Promise<void>((resolve) => { ws.once('open', () => { resolve() }) })
  let seq = 0
  const highWater = 1024 * 1024
  return {
    burst (n) {
      for (let i = 0; i < n; i++) {
        if (ws.bufferedAmount > highWater) return i
        ws.send(JSON.stringify(message(seq++)))
      }
      return n
    },
    async ready () {
      do await new Promise((resolve) => setImmediate(resolve))
      while (ws.bufferedAmount > highWater)
    },
    async close () {
      ws.terminate()
    }
  }
}

function ask (child: ChildProcess, command: Command, reply: string): Promise<{ report?: Report }> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string, report?: Report }): void => {
      if (m.type !== reply) return
      child.off('message', onMessage)
      resolve(m)
    }
    child.on('message', onMessage)
    child.send(command)
  })
}

/** Waits until the receiver's count stops growing (everything in flight has arrived). */
async function settle (child: ChildProcess): Promise<Report> {
  let previous = -1
  for (;;) {
    const { report } = await ask(child, { type: 'report' }, 'report')
    if (report!.count === previous) return report!
    previous = report!.count
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function saturate (sender: Sender, seconds: number): Promise<void> {
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) {
    sender.burst(1000)
    await sender.ready()
  }
}

/** Sends at `rate` messages/s for `seconds`, in small bursts paced by the clock. */
async function paced (sender: Sender, rate: number, seconds: number): Promise<void> {
  const start = performance.now()
  const end = start + seconds * 1000
  let sent = 0
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent
    if (due > 0) sent += sender.burst(due)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

interface Result { name: string, throughput: number, p50: number, p99: number, rate: number }

async function run (kind: 'synod' | 'baseline', latencyRate: (throughput: number) => number): Promise<Result> {
  const child = fork(fileURLToPath(import.meta.url), ['receiver', kind], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const address = await new Promise<string>((resolve) => {
      child.on('message', (m: { type: string, address?: string }) => { if (m.type === 'address') resolve(m.address!) })
    })
    const sender = kind === 'synod' ? await synodSender(address) : await baselineSender(address)
    await saturate(sender, 1) // warm-up
    await settle(child)
    await ask(child, { type: 'reset' }, 'reset-done')
    await saturate(sender, SECONDS)
    const flood = await settle(child)
    const throughput = flood.count / ((flood.lastMicros - flood.firstMicros) / 1e6)
    const rate = latencyRate(throughput)
    await ask(child, { type: 'reset' }, 'reset-done')
    await paced(sender, rate, SECONDS)
    const steady = await settle(child)
    await sender.close()
    return { name: kind === 'synod' ? SYNOD : BASELINE, throughput, p50: steady.p50, p99: steady.p99, rate }
  } finally {
    child.send({ type: 'exit' })
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

function codecTable (): string {
  const raft = { type: 'append', term: 42, leaderId: 'node-1', prevLogIndex: 1000, prevLogTerm: 42, leaderCommit: 999, entries: [{ index: 1001, term: 42, data: Buffer.alloc(32, 7) }] }
  const heartbeat = { type: 'heartbeat', term: 42, leaderId: 'node-1', commit: 999 }
  type Codec = { encode: (v: unknown[]) => Buffer, decode: (b: Buffer) => unknown }
  const variants: Array<[string, () => Codec]> = [
    ['msgpackr records (sequential)', () => {
      const p = new Packr({ useRecords: true, sequential: true, mapsAsObjects: true })
      const u = new Unpackr({ useRecords: true, sequential: true, mapsAsObjects: true })
      return { encode: (v) => p.pack(v), decode: (b) => u.unpack(b) as unknown }
    }],
    ['msgpackr plain maps', () => {
      const p = new Packr({ useRecords: false })
      const u = new Unpackr({ useRecords: false })
      return { encode: (v) => p.pack(v), decode: (b) => u.unpack(b) as unknown }
    }],
    ['JSON', () => ({ encode: (v) => Buffer.from(JSON.stringify(v)), decode: (b) => JSON.parse(b.toString()) as unknown })]
  ]
  const rows: string[] = []
  for (const [label, sample] of [['append (32-byte entry)', raft], ['heartbeat', heartbeat]] as const) {
    const batch = Array.from({ length: 64 }, () => sample)
    const best = variants.map(() => ({ bytes: 0, encodeNs: Infinity, decodeNs: Infinity }))
    // Five interleaved repetitions, best of each: the machine is shared and noisy.
    for (let rep = 0; rep < 5; rep++) {
      variants.forEach(([, make], v) => {
        const warm = make()
        for (let i = 0; i < 500; i++) warm.decode(warm.encode([1, ...batch]))
        const codec = make()
        const frames: Buffer[] = []
        const iterations = 1000
        let t = performance.now()
        for (let i = 0; i < iterations; i++) frames.push(codec.encode([1, ...batch]))
        const encodeNs = (performance.now() - t) * 1e6 / (iterations * 64)
        t = performance.now()
        for (const frame of frames) codec.decode(frame)
        const decodeNs = (performance.now() - t) * 1e6 / (iterations * 64)
        const entry = best[v]!
        entry.bytes = frames[frames.length - 1]!.length / 64
        entry.encodeNs = Math.min(entry.encodeNs, encodeNs)
        entry.decodeNs = Math.min(entry.decodeNs, decodeNs)
      })
    }
    variants.forEach(([name], v) => {
      const entry = best[v]!
      rows.push(`| ${label} | ${name} | ${entry.bytes.toFixed(1)} | ${entry.encodeNs.toFixed(0)} | ${entry.decodeNs.toFixed(0)} |`)
    })
  }
  return ['| message | codec | bytes/msg | encode ns/msg | decode ns/msg |', '|---|---|---:|---:|---:|', ...rows].join('\n')
}

async function main (): Promise<void> {
  console.log(`two processes on 127.0.0.1, 100-byte messages, ${SECONDS} s per phase, ${ROUNDS} interleaved rounds (best of each)\n`)
  // The first baseline run fixes the paced rate (60% of its maximum) for every later run.
  let rate = FIXED_RATE
  const results: Result[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const baseline = await run('baseline', (throughput) => {
      if (rate === 0) rate = Math.round(throughput * 0.6)
      return rate
    })
    const synod = await run('synod', () => rate)
    results.push(baseline, synod)
    for (const r of [baseline, synod]) {
      console.log(`round ${round + 1}: ${r.name}: ${Math.round(r.throughput).toLocaleString('en-US')} msg/s, p50 ${(r.p50 / 1000).toFixed(2)} ms, p99 ${(r.p99 / 1000).toFixed(2)} ms`)
    }
  }
  console.log()
  const best = (name: string): Result => {
    const mine = results.filter((r) => r.name === name)
    return {
      name,
      rate,
      throughput: Math.max(...mine.map((r) => r.throughput)),
      p50: Math.min(...mine.map((r) => r.p50)),
      p99: Math.min(...mine.map((r) => r.p99))
    }
  }
  const synod = best(SYNOD)
  const baseline = best(BASELINE)
  const table = [
    `| transport | messages/s (max) | one-way p50 at ${rate.toLocaleString('en-US')} msg/s | one-way p99 at ${rate.toLocaleString('en-US')} msg/s |`,
    '|---|---:|---:|---:|',
    ...[synod, baseline].map((r) => `| ${r.name} | ${Math.round(r.throughput).toLocaleString('en-US')} | ${(r.p50 / 1000).toFixed(2)} ms | ${(r.p99 / 1000).toFixed(2)} ms |`),
    `| ratio (ours / baseline) | ${(synod.throughput / baseline.throughput).toFixed(2)}x | ${(synod.p50 / baseline.p50).toFixed(2)}x | ${(synod.p99 / baseline.p99).toFixed(2)}x |`
  ].join('\n')
  console.log(table)
  console.log('\ncodec, 64 messages per frame\n')
  console.log(codecTable())
}

if (process.argv[2] === 'receiver') receiverMain(process.argv[3] ?? 'synod')
else if (process.argv[2] === 'codec') console.log(codecTable())
else await main()
