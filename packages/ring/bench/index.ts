/**
 * @synod/ring benchmark: every algorithm of ours and the npm `hashring` and `consistent-hash`
 * packages, side by side in one run, on 10 nodes and 1,000,000 seeded keys.
 *
 * Run: pnpm bench ring   (or: pnpm exec tsx bench/index.ts [keyCount])
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import ConsistentHash from 'consistent-hash'
import HashRing from 'hashring'
import murmurhash from 'murmurhash'
import { createRandom } from '@synod/sim'
import {
  createBoundedLoads, createJumpRing, createKetamaRing, createMaglevRing, createRendezvousRing, createVnodeRing, murmur3
} from '../src/index.js'
import type { Ring } from '../src/index.js'
import { md5 } from '../src/hash/md5.js'

const KEY_COUNT = Number(process.argv[2] ?? 1_000_000)
/** Set in the child process that measures one contender. */
const ONLY = process.argv[3]
const NODES = Array.from({ length: 10 }, (_, i) => `node-${i}`)
const ADDED = 'node-10'
const LAST = 'node-9'
const MIDDLE = 'node-3'

/** What the benchmark needs from a ring, ours or a baseline. */
interface Router {
  get: (key: string) => string | undefined
  add?: (node: string) => void
  remove?: (node: string) => void
}

interface Contender {
  name: string
  build: (nodes: readonly string[]) => Router
  /** False for stateful routing (bounded loads), where "keys moved" is not defined. */
  stateless: boolean
}

function fromRing (make: (nodes: string[]) => Ring): (nodes: readonly string[]) => Router {
  return nodes => {
    const ring = make(nodes.slice())
    return { get: key => ring.get(key), add: node => { ring.add(node) }, remove: node => { ring.remove(node) } }
  }
}

const CONTENDERS: Contender[] = [
  { name: 'vnode ring (murmur3, 4096 vnodes)', build: fromRing(nodes => createVnodeRing({ nodes })), stateless: true },
  { name: 'ketama mode (md5, = hashring)', build: fromRing(nodes => createKetamaRing({ nodes })), stateless: true },
  { name: 'jump', build: fromRing(nodes => createJumpRing({ nodes })), stateless: true },
  { name: 'rendezvous (weighted HRW)', build: fromRing(nodes => createRendezvousRing({ nodes })), stateless: true },
  { name: 'maglev (M = 65537)', build: fromRing(nodes => createMaglevRing({ nodes })), stateless: true },
  {
    name: 'bounded loads c=1.01 (vnode)',
    build: nodes => {
      const balancer = createBoundedLoads(createVnodeRing({ nodes: nodes.slice() }), { factor: 1.01 })
      return { get: key => balancer.acquire(key) }
    },
    stateless: false
  },
  {
    name: 'npm hashring 3.2 (ketama)',
    build: nodes => {
      const ring = new HashRing(nodes.slice())
      return { get: key => ring.get(key), add: node => { ring.add(node) }, remove: node => { ring.remove(node) } }
    },
    stateless: true
  },
  {
    name: 'npm consistent-hash 1.2',
    build: nodes => {
      const ring = new ConsistentHash()
      for (const node of nodes) ring.add(node)
      return { get: key => ring.get(key), add: node => { ring.add(node) }, remove: node => { ring.remove(node) } }
    },
    stateless: true
  }
]

/** Seeded keys, shaped like real ones. */
function seededKeys (count: number, seed: number): string[] {
  const random = createRandom(seed)
  return Array.from({ length: count }, (_, i) => `user:${random.uint32().toString(36)}:${i % 1000}`)
}

const NODE_INDEX = new Map([...NODES, ADDED].map((id, index) => [id, index]))

function owners (router: Router, keys: readonly string[]): Int8Array {
  const result = new Int8Array(keys.length)
  for (let i = 0; i < keys.length; i++) result[i] = NODE_INDEX.get(router.get(keys[i]!) ?? '') ?? -1
  return result
}

/**
 * CPU seconds spent by `run` (user + system, all threads of this process). The benchmark machine
 * is shared, so wall-clock time would mostly measure the neighbours; CPU time measures us.
 */
function cpuSeconds (run: () => void): number {
  const before = process.cpuUsage()
  run()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1e6
}

function timeLookups (router: Router, keys: readonly string[]): number {
  let missing = 0
  const warm = Math.min(100_000, keys.length)
  for (let i = 0; i < warm; i++) if (router.get(keys[i]!) === undefined) missing++
  // Best of three passes: the least disturbed by the neighbours.
  let seconds = Infinity
  for (let pass = 0; pass < 3; pass++) {
    seconds = Math.min(seconds, cpuSeconds(() => {
      for (let i = 0; i < keys.length; i++) if (router.get(keys[i]!) === undefined) missing++
    }))
  }
  if (missing > 0) throw new Error('a lookup returned no node')
  return keys.length / seconds
}

function median (values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[sorted.length >> 1]!
}

interface Row {
  name: string
  buildMs: number
  lookupsPerSecond: number
  peakToMean: number
  stddevPercent: number
  addMoved?: number
  removeLastMoved?: number
  removeMiddleMoved?: number
  unnecessary?: [number, number, number]
  disagreement: number
}

function measure (contender: Contender, keys: readonly string[]): Row {
  const buildTimes: number[] = []
  for (let i = 0; i < 5; i++) buildTimes.push(cpuSeconds(() => { contender.build(NODES) }) * 1000)
  const lookupsPerSecond = timeLookups(contender.build(NODES), keys)
  const base = owners(contender.build(NODES), keys)
  const counts = new Array<number>(NODES.length).fill(0)
  for (const owner of base) counts[owner] = counts[owner]! + 1
  const mean = keys.length / NODES.length
  const variance = counts.reduce((sum, count) => sum + (count - mean) ** 2, 0) / NODES.length
  const row: Row = {
    name: contender.name,
    buildMs: median(buildTimes),
    lookupsPerSecond,
    peakToMean: Math.max(...counts) / mean,
    stddevPercent: (Math.sqrt(variance) / mean) * 100,
    disagreement: 0
  }
  const other = owners(contender.build(NODES), keys)
  let disagree = 0
  for (let i = 0; i < keys.length; i++) if (other[i] !== base[i]) disagree++
  row.disagreement = (disagree / keys.length) * 100
  if (!contender.stateless) return row

  const change = (mutate: (router: Router) => void, changed: string): [number, number] => {
    const router = contender.build(NODES)
    mutate(router)
    const after = owners(router, keys)
    const changedIndex = NODE_INDEX.get(changed)!
    let moved = 0
    let unnecessary = 0
    for (let i = 0; i < keys.length; i++) {
      if (after[i] === base[i]) continue
      moved++
      // A necessary move goes to the added node or comes from the removed one.
      if (after[i] !== changedIndex && base[i] !== changedIndex) unnecessary++
    }
    return [(moved / keys.length) * 100, (unnecessary / keys.length) * 100]
  }
  const [addMoved, addUnnecessary] = change(router => { router.add!(ADDED) }, ADDED)
  const [lastMoved, lastUnnecessary] = change(router => { router.remove!(LAST) }, LAST)
  const [middleMoved, middleUnnecessary] = change(router => { router.remove!(MIDDLE) }, MIDDLE)
  row.addMoved = addMoved
  row.removeLastMoved = lastMoved
  row.removeMiddleMoved = middleMoved
  row.unnecessary = [addUnnecessary, lastUnnecessary, middleUnnecessary]
  return row
}

function formatRate (perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(0)}k`
}

function table (headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map(row => row[column]!.length)))
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
  return [line(headers), `| ${widths.map(width => '-'.repeat(width)).join(' | ')} |`, ...rows.map(line)].join('\n')
}

function hashTable (keys: readonly string[]): string {
  const sample = keys.slice(0, 500_000)
  const encoder = new TextEncoder()
  const byteKeys = sample.map(key => encoder.encode(key))
  const digest = new Int32Array(4)
  const contenders: Array<[string, () => number]> = [
    ['murmur3 (ours), string', () => { let x = 0; for (const key of sample) x ^= murmur3(key); return x }],
    ['murmurhash 2.0 v3, string', () => { let x = 0; for (const key of sample) x ^= murmurhash.v3(key); return x }],
    ['murmur3 (ours), Uint8Array', () => { let x = 0; for (const key of byteKeys) x ^= murmur3(key); return x }],
    ['murmurhash 2.0 v3, Uint8Array', () => { let x = 0; for (const key of byteKeys) x ^= murmurhash.v3(key); return x }],
    ['md5 (ours), string', () => { let x = 0; for (const key of sample) x ^= md5(key, digest)[0]!; return x }],
    ['node:crypto md5, string', () => { let x = 0; for (const key of sample) x ^= createHash('md5').update(key).digest().readInt32LE(0); return x }]
  ]
  const rows = contenders.map(([name, run]) => {
    run()
    const seconds = Math.min(cpuSeconds(run), cpuSeconds(run), cpuSeconds(run))
    return [name, formatRate(sample.length / seconds)]
  })
  return table(['hash (keys like "user:1x2y3z:42")', 'hashes per CPU second'], rows)
}

/**
 * Each contender is measured in its own process, one after the other: in a shared process the
 * JIT would see every ring class at the same call sites and slow all of them down, which no real
 * application (using one algorithm) suffers.
 */
function measureIsolated (index: number): Row {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(KEY_COUNT), String(index)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20
  })
  if (child.status !== 0) throw new Error(`measuring ${CONTENDERS[index]!.name} failed: ${child.stderr}`)
  return JSON.parse(child.stdout) as Row
}

function main (): void {
  const keys = seededKeys(KEY_COUNT, 0x5eed)
  if (ONLY !== undefined) {
    process.stdout.write(JSON.stringify(measure(CONTENDERS[Number(ONLY)]!, keys)))
    return
  }
  console.log(`@synod/ring benchmark: ${NODES.length} nodes, ${keys.length.toLocaleString('en')} seeded keys, Node ${process.version}, one process per algorithm\n`)
  const rows = CONTENDERS.map((contender, index) => {
    const row = measureIsolated(index)
    process.stderr.write(`measured ${contender.name}\n`)
    return row
  })
  const percent = (value: number | undefined): string => value === undefined ? 'n/a' : `${value.toFixed(2)}%`
  console.log(table(
    ['algorithm', 'build (CPU)', 'lookups per CPU second', 'peak/mean', 'stddev', 'moved: add 11th', 'moved: remove last', 'moved: remove node-3', 'unnecessary (add / last / node-3)', 'instances disagree'],
    rows.map(row => [
      row.name,
      `${row.buildMs.toFixed(2)} ms`,
      formatRate(row.lookupsPerSecond),
      row.peakToMean.toFixed(4),
      `${row.stddevPercent.toFixed(2)}%`,
      percent(row.addMoved),
      percent(row.removeLastMoved),
      percent(row.removeMiddleMoved),
      row.unnecessary === undefined ? 'n/a' : row.unnecessary.map(value => `${value.toFixed(2)}%`).join(' / '),
      percent(row.disagreement)
    ])
  ))
  const hashring = rows.find(row => row.name.startsWith('npm hashring'))!
  const vnode = rows[0]!
  console.log(`\nIdeal moves: add 1/11 = 9.09%, remove 1/10 = 10.00%. vnode ring lookups/s = ${(vnode.lookupsPerSecond / hashring.lookupsPerSecond).toFixed(1)}x hashring.`)
  console.log('Bounded loads routes by current load (each lookup acquires one unit, none released), so moves are not defined for it.\n')
  console.log(hashTable(keys))
}

main()
