import type { Cluster } from '../cluster/cluster.js'
import { bridge, isolate, majorityRing, oneWay, randomHalves, type Cut } from '../net/grudge.js'
import { createSeededRandom, type SeededRandom } from '../random.js'
import type { TestNetwork } from '../system/network.js'
import { NETWORK_FAULTS, type FaultKind, type ScheduledFault } from './schedule.js'

/** What was actually done, for the summary: the schedule resolved against the live cluster. */
export interface InjectedFault {
  readonly kind: FaultKind
  /** Milliseconds after the workload started, when injected and when healed. */
  readonly startMs: number
  endMs?: number
  /** Human-readable targets: "n2 isolated", "n1,n3 | n2,n4,n5". */
  readonly detail: string
  /** Cuts applied, for network faults. */
  readonly cuts?: readonly Cut[] | undefined
}

export interface NemesisComponents {
  readonly cluster: Cluster
  readonly network: TestNetwork
  /** The node most recently seen leading, if any. */
  readonly leader: () => string | undefined
  /** Milliseconds since the workload started. */
  readonly elapsed: () => number
  /** Whether the clock victim runs under libfaketime. */
  readonly clockVictim: string | undefined
}

/** Injects one scheduled step and returns how to heal it. */
export interface Nemesis {
  inject(step: ScheduledFault): Promise<{ injected: InjectedFault[], heal: () => Promise<void> }>
  /** Heals everything: network, paused processes, stopped nodes, clock rate. */
  healAll(): Promise<void>
}

export function createNemesis (components: NemesisComponents): Nemesis {
  const { cluster, network } = components
  const ids = (): string[] => cluster.nodes.map((node) => node.host.id)
  const target = (random: SeededRandom, wanted: 'leader' | 'any'): { id: string, note: string } => {
    const leader = components.leader()
    if (wanted === 'leader' && leader !== undefined) return { id: leader, note: 'leader' }
    const id = random.pick(ids())
    return { id, note: wanted === 'leader' ? 'no leader known, random node' : 'random node' }
  }

  async function healAll (): Promise<void> {
    await network.heal()
    for (const node of cluster.nodes) if (node.paused) cluster.resume(node.host.id)
    for (const node of cluster.nodes) if (!node.running) cluster.start(node.host.id)
    if (components.clockVictim !== undefined) cluster.steadyClock()
  }

  return {
    healAll,
    async inject (step) {
      const random = createSeededRandom(step.seed)
      const injected: InjectedFault[] = []
      const heals: Array<() => Promise<void>> = []
      const cuts: Cut[] = []
      let lossPercent = 0
      const startMs = components.elapsed()
      const record = (kind: FaultKind, detail: string, faultCuts?: Cut[]): void => { injected.push({ kind, startMs, detail, cuts: faultCuts }) }

      for (const kind of step.kinds) {
        const nodes = ids()
        switch (kind) {
          case 'partition-halves': {
            const p = randomHalves(nodes, random)
            cuts.push(...p.cuts)
            record(kind, p.groups.map((g) => g.join(',')).join(' | '), p.cuts)
            break
          }
          case 'partition-isolate-leader': {
            const t = target(random, 'leader')
            const p = isolate(nodes, t.id)
            cuts.push(...p.cuts)
            record(kind, `${t.id} isolated (${t.note})`, p.cuts)
            break
          }
          case 'partition-bridge': {
            const p = bridge(nodes, random)
            cuts.push(...p.cuts)
            record(kind, `${p.groups.map((g) => g.join(',')).join(' | ')}, bridged by ${p.bridgeNode}`, p.cuts)
            break
          }
          case 'partition-majority-ring': {
            const p = majorityRing(nodes, random)
            cuts.push(...p.cuts)
            record(kind, `ring ${p.ring.join('-')}`, p.cuts)
            break
          }
          case 'partition-one-way': {
            const t = target(random, random.int(2) === 0 ? 'leader' : 'any')
            const direction = random.int(2) === 0 ? 'outbound' : 'inbound'
            const c = oneWay(nodes, t.id, direction)
            cuts.push(...c)
            record(kind, `${t.id} (${t.note}) ${direction === 'outbound' ? 'cannot send' : 'cannot receive'}`, c)
            break
          }
          case 'packet-loss': {
            lossPercent = random.pick([10, 20, 35])
            record(kind, `${lossPercent}% of packets between nodes dropped`)
            break
          }
          case 'kill-one':
          case 'kill-leader': {
            const t = target(random, kind === 'kill-leader' ? 'leader' : 'any')
            await cluster.kill(t.id)
            record(kind, `kill -9 ${t.id} (${t.note})`)
            heals.push(async () => { cluster.start(t.id) })
            break
          }
          case 'kill-all': {
            await Promise.all(nodes.map(async (id) => { await cluster.kill(id) }))
            record(kind, `kill -9 ${nodes.join(',')}`)
            heals.push(async () => { for (const id of nodes) cluster.start(id) })
            break
          }
          case 'pause-leader': {
            const t = target(random, 'leader')
            cluster.pause(t.id)
            record(kind, `SIGSTOP ${t.id} (${t.note})`)
            heals.push(async () => { cluster.resume(t.id) })
            break
          }
          case 'clock-bump': {
            if (components.clockVictim === undefined) { record(kind, 'skipped: no libfaketime'); break }
            const jumpMs = random.pick([2000, 10_000, 60_000])
            cluster.bumpClock(jumpMs)
            record(kind, `${components.clockVictim} clock +${jumpMs / 1000} s`)
            break
          }
          case 'clock-drift': {
            if (components.clockVictim === undefined) { record(kind, 'skipped: no libfaketime'); break }
            const rate = random.pick([1.5, 2, 4])
            cluster.driftClock(rate)
            record(kind, `${components.clockVictim} clock runs at ×${rate}`)
            heals.push(async () => { cluster.steadyClock() })
            break
          }
        }
      }
      if (step.kinds.some((kind) => NETWORK_FAULTS.has(kind))) {
        await network.apply({ cuts, lossPercent })
        heals.push(async () => { await network.heal() })
      }
      return {
        injected,
        heal: async () => {
          for (const heal of heals) await heal()
          const endMs = components.elapsed()
          for (const fault of injected) fault.endMs = endMs
        }
      }
    }
  }
}
