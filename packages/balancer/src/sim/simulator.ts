import type { Clock, Random } from '@synod/interfaces'
import { createSeededRandom } from '../random.js'
import type { Balancer, EndpointInit, PickHandle } from '../types.js'
import { summarize, type LatencySummary } from './stats.js'
import { createVirtualClock } from './virtual-clock.js'

/** A span of simulated time, `[fromMs, toMs)`. */
export interface SimPeriod {
  fromMs: number
  toMs: number
}

/** One simulated backend: a single worker serving its queue first in, first out. */
export interface SimBackend {
  id: string
  /** Mean of the exponentially distributed service time. */
  meanServiceMs: number
  /**
   * Weight announced to the balancer.
   * @default 1
   */
  weight?: number
  /** Periods during which service times are multiplied by `factor` (a GC pause, a noisy neighbour). */
  slowPeriods?: Array<SimPeriod & { factor: number }>
  /**
   * Periods during which requests fail with probability `errorRate` (default 1), answering after an
   * exponential time of mean `errorServiceMs` (default 1 ms): fast failures, the kind that attract
   * traffic to a broken backend under naive least-request balancing.
   */
  errorPeriods?: Array<SimPeriod & { errorRate?: number, errorServiceMs?: number }>
}

/** A workload: Poisson arrivals over a set of backends. */
export interface SimScenario {
  name: string
  backends: SimBackend[]
  /** Mean arrival rate of the Poisson process. */
  arrivalsPerSecond: number
  /** Arrivals stop after this much simulated time; requests still queued are then drained. */
  durationMs: number
  /** Seed of every random stream of the run (arrivals, service times, the balancer's own). */
  seed: number
  /**
   * When set, every request carries a key drawn uniformly from this many (`k0`, `k1`, ...), for
   * the consistent-hash policy; other policies ignore keys. Keys come from their own random stream,
   * so setting this does not change arrivals or service times.
   * @default undefined (requests carry no key)
   */
  keySpace?: number
  /**
   * Width of the per-backend traffic timeline buckets.
   * @default 1000
   */
  bucketMs?: number
}

/** What the simulator hands a balancer factory. */
export interface SimComponents {
  clock: Clock
  random: Random
}

/** Builds the balancer under test over the scenario's endpoints, on the simulator's clock and randomness. */
export type BalancerFactory = (endpoints: EndpointInit[], components: SimComponents) => Balancer

/** Per-backend results. */
export interface SimBackendResult {
  id: string
  requests: number
  /** Share of all requests. */
  share: number
  failures: number
  /** Most requests ever queued or in service at once. */
  maxQueue: number
  /** Requests per timeline bucket. */
  timeline: number[]
}

/** Results of one run. */
export interface SimResult {
  scenario: string
  policy: string
  requests: number
  failures: number
  /** Successful requests over all requests. */
  successRate: number
  /** Latency of every request, successful or not, from arrival to answer. */
  latency: LatencySummary
  /** The deepest queue any backend reached. */
  maxQueue: number
  backends: SimBackendResult[]
  bucketMs: number
}

/** Observes the run as it happens (for tests that check invariants at every step). */
export interface SimObserver {
  /** Called after every arrival is routed, with the balancer and the simulated time. */
  afterPick?(balancer: Balancer, now: number): void
}

interface BackendModel {
  spec: SimBackend
  random: Random
  /** Time the worker finishes everything queued so far. */
  freeAt: number
  queued: number
  result: SimBackendResult
}

/** Exponentially distributed sample of mean `mean` (inverse transform). */
function exponential (random: Random, mean: number): number {
  return -mean * Math.log(1 - random.next())
}

function activePeriod<P extends SimPeriod> (periods: P[] | undefined, at: number): P | undefined {
  if (periods === undefined) return undefined
  for (const period of periods) if (at >= period.fromMs && at < period.toMs) return period
  return undefined
}

/**
 * Runs `scenario` against the balancer `factory` builds, in virtual time: a discrete-event
 * simulation of M/M/1 FIFO backends behind one balancer. The same scenario and seed always produce
 * the same result, whatever the machine.
 */
export function runSimulation (scenario: SimScenario, factory: BalancerFactory, observer: SimObserver = {}): SimResult {
  const clock = createVirtualClock()
  const arrivals = createSeededRandom(scenario.seed)
  const bucketMs = scenario.bucketMs ?? 1000
  const buckets = Math.ceil(scenario.durationMs / bucketMs)
  const backends = new Map<string, BackendModel>()
  scenario.backends.forEach((spec, index) => {
    backends.set(spec.id, {
      spec,
      random: createSeededRandom(scenario.seed * 7919 + 1 + index),
      freeAt: 0,
      queued: 0,
      result: { id: spec.id, requests: 0, share: 0, failures: 0, maxQueue: 0, timeline: new Array<number>(buckets).fill(0) }
    })
  })
  const balancer = factory(
    scenario.backends.map((spec) => ({ id: spec.id, weight: spec.weight ?? 1 })),
    { clock, random: createSeededRandom(scenario.seed * 104729 + 17) }
  )
  void balancer.start()

  const latencies: number[] = []
  let failures = 0

  const serve = (handle: PickHandle, arrivedAt: number): void => {
    const backend = backends.get(handle.endpoint.id)
    if (backend === undefined) throw new Error(`balancer picked unknown endpoint ${handle.endpoint.id}`)
    const { spec, random, result } = backend
    const startAt = Math.max(arrivedAt, backend.freeAt)
    const failing = activePeriod(spec.errorPeriods, startAt)
    const fails = failing !== undefined && random.next() < (failing.errorRate ?? 1)
    const slow = activePeriod(spec.slowPeriods, startAt)
    const service = fails
      ? exponential(random, failing.errorServiceMs ?? 1)
      : exponential(random, spec.meanServiceMs) * (slow?.factor ?? 1)
    const finishAt = startAt + service
    backend.freeAt = finishAt
    backend.queued++
    if (backend.queued > result.maxQueue) result.maxQueue = backend.queued
    result.requests++
    const bucket = Math.floor(arrivedAt / bucketMs)
    if (bucket < buckets) result.timeline[bucket]!++
    clock.setTimeout(() => {
      backend.queued--
      latencies.push(finishAt - arrivedAt)
      if (fails) {
        result.failures++
        failures++
      }
      handle.complete(fails ? 'failure' : 'success')
    }, finishAt - arrivedAt)
  }

  const interarrivalMs = 1000 / scenario.arrivalsPerSecond
  const keySpace = scenario.keySpace
  const keys = createSeededRandom(scenario.seed * 31 + 5)
  const arrive = (): void => {
    const now = clock.now()
    serve(balancer.pick(keySpace === undefined ? undefined : { key: `k${keys.int(keySpace)}` }), now)
    observer.afterPick?.(balancer, now)
    const next = now + exponential(arrivals, interarrivalMs)
    if (next < scenario.durationMs) clock.setTimeout(arrive, next - now)
  }
  clock.setTimeout(arrive, exponential(arrivals, interarrivalMs))
  clock.advance(scenario.durationMs)
  void balancer.stop()
  // Drain: every admitted request finishes, so queues that grew without bound show in the latencies.
  clock.runAll()

  const requests = latencies.length
  let maxQueue = 0
  const backendResults = [...backends.values()].map(({ result }) => {
    result.share = requests === 0 ? 0 : result.requests / requests
    if (result.maxQueue > maxQueue) maxQueue = result.maxQueue
    return result
  })
  return {
    scenario: scenario.name,
    policy: balancer.policy,
    requests,
    failures,
    successRate: requests === 0 ? 1 : (requests - failures) / requests,
    latency: summarize(Float64Array.from(latencies)),
    maxQueue,
    backends: backendResults,
    bucketMs
  }
}
