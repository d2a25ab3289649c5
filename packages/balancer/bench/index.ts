// Benchmarks of @synod/balancer.
//
// 1. Scenario tables: every policy on the seeded discrete-event simulator (virtual time, so the
//    figures are exact and identical on every machine), next to the npm `load-balancers` P2C.
// 2. pick() throughput: pick + complete per second on the system clock, with a bare array
//    round-robin loop and `load-balancers` in the same run as baselines (compare ratios; the
//    machine is noisy).
import { P2cBalancer } from 'load-balancers'
import {
  POLICY_NAMES, createBalancer, createSeededRandom, createVirtualClock, failingBackendScenario, runSimulation,
  slowBackendScenario, transientSlownessScenario,
  type Balancer, type BalancerFactory, type PolicyName, type SimResult, type SimScenario
} from '../src/index.js'
import { loadBalancersP2c } from './load-balancers-adapter.js'

const ms = (value: number): string => value >= 10_000 ? `${(value / 1000).toFixed(0)} s` : `${value.toFixed(1)} ms`
const pct = (value: number): string => `${(value * 100).toFixed(2)}%`

interface Row { name: string, result: SimResult }

function table (scenario: SimScenario, watched: string, rows: Row[]): void {
  console.log(`\n### Scenario ${scenario.name} (${scenario.backends.length} backends, ${scenario.arrivalsPerSecond.toFixed(0)} req/s, ${scenario.durationMs / 1000} s simulated, seed ${scenario.seed})\n`)
  console.log(`| policy | p50 | p99 | p99.9 | success | share to \`${watched}\` | deepest queue |`)
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const { name, result } of rows) {
    const share = result.backends.find((backend) => backend.id === watched)?.share ?? Number.NaN
    console.log(`| ${name} | ${ms(result.latency.p50)} | ${ms(result.latency.p99)} | ${ms(result.latency.p999)} | ${pct(result.successRate)} | ${pct(share)} | ${result.maxQueue} |`)
  }
}

function scenarioTable (scenario: SimScenario, watched: string, configure: (policy: PolicyName) => Parameters<typeof createBalancer>[0]['outlierDetection']): void {
  const rows: Row[] = POLICY_NAMES.map((policy) => {
    const factory: BalancerFactory = (endpoints, components) => createBalancer({ policy, endpoints, outlierDetection: configure(policy) }, components)
    return { name: policy, result: runSimulation(scenario, factory) }
  })
  rows.push({ name: 'npm load-balancers P2C (baseline)', result: runSimulation(scenario, (endpoints) => loadBalancersP2c(endpoints)) })
  table(scenario, watched, rows)
}

// --- pick() throughput ---------------------------------------------------------------------------

const ENDPOINTS = Array.from({ length: 10 }, (_, i) => ({ id: `node-${i}`, address: `10.0.0.${i}:7000` }))
const KEYS = Array.from({ length: 1024 }, (_, i) => `key-${i}`)
const ITERATIONS = 2_000_000
const ROUNDS = 7

/**
 * Median of `ROUNDS` timings of `ITERATIONS` calls, in operations per CPU second: the process's own
 * user + system time, so time spent descheduled on a shared machine does not count against it.
 * Rounds last long enough (tens of milliseconds at least) for CPU accounting to be accurate.
 */
function measure (body: (i: number) => void): number {
  for (let i = 0; i < 200_000; i++) body(i)
  const rates: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage()
    for (let i = 0; i < ITERATIONS; i++) body(i)
    const used = process.cpuUsage(start)
    rates.push(ITERATIONS / ((used.user + used.system) / 1e6))
  }
  return rates.sort((a, b) => a - b)[ROUNDS >> 1]!
}

function pickLoop (balancer: Balancer, keyed: boolean): (i: number) => void {
  if (keyed) return (i) => { balancer.pick({ key: KEYS[i & 1023] }).complete('success') }
  return () => { balancer.pick().complete('success') }
}

function printScenarios (): void {
  console.log('## Simulated scenarios')
  console.log('\nRequests carry one of 1000 keys (only consistent-hash uses them). Latency counts every request, failed or not, from arrival to answer; queues still full when arrivals stop are drained.')
  const keyed = (scenario: SimScenario): SimScenario => ({ ...scenario, keySpace: 1000 })
  scenarioTable(keyed(slowBackendScenario(1)), 'slow', () => undefined)
  scenarioTable(keyed(failingBackendScenario(1)), 'bad', () => ({ consecutiveFailures: 5, baseEjectionMs: 15_000, maxEjectedShare: 0.2 }))
  scenarioTable(keyed(transientSlownessScenario(1)), 'gc', () => undefined)
}

function printThroughput (): void {
  console.log('\n## pick() throughput\n')
  console.log(`10 endpoints, pick() then complete('success'), median of ${ROUNDS} rounds of ${ITERATIONS / 1e6}M, per CPU second of this process (consistent-hash with one of 1024 keys). Node ${process.version}.`)
  console.log('"system clock" is the default (performance.now); "virtual clock" shows the cost without reading time, which only p2c-peak-ewma does on every pick.\n')
  console.log('| picker | picks/s, system clock | picks/s, virtual clock | system clock vs array round robin |')
  console.log('|---|---:|---:|---:|')
  let sink = 0
  const floorList = ENDPOINTS.slice()
  let cursor = 0
  const floor = measure(() => { sink += floorList[cursor++ % floorList.length]!.id.length })
  console.log(`| bare array round robin (floor, no bookkeeping) | ${(floor / 1e6).toFixed(1)}M | | 1.00 |`)
  const foreign = new P2cBalancer(ENDPOINTS.length)
  const foreignRate = measure(() => { sink += foreign.pick() })
  console.log(`| npm load-balancers P2C (never released) | ${(foreignRate / 1e6).toFixed(1)}M | | ${(foreignRate / floor).toFixed(2)} |`)
  for (const policy of POLICY_NAMES) {
    const balancer = createBalancer({ policy, endpoints: ENDPOINTS }, { random: createSeededRandom(1) })
    const rate = measure(pickLoop(balancer, policy === 'consistent-hash'))
    const virtual = createBalancer({ policy, endpoints: ENDPOINTS }, { random: createSeededRandom(1), clock: createVirtualClock() })
    const virtualRate = measure(pickLoop(virtual, policy === 'consistent-hash'))
    console.log(`| ${policy} | ${(rate / 1e6).toFixed(1)}M | ${(virtualRate / 1e6).toFixed(1)}M | ${(rate / floor).toFixed(2)} |`)
  }
  if (sink === 42) console.log('')
}

// `pnpm bench balancer -- scenarios` or `-- throughput` runs one part.
const only = process.argv[2]
if (only !== 'throughput') printScenarios()
if (only !== 'scenarios') printThroughput()
