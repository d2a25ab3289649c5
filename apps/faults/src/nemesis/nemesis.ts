import type { Cluster } from '../cluster/cluster.js'
import { bridge, isolate, majorityRing, oneWay, randomHalves, type Cut } from '../net/grudge.js'
import { createSeededRandom, type SeededRandom } from '../random.js'
import type { TestNetwork } from '../system/network.js'
import { readMembers, removeMember, restoreVoter, type AdminCall, type MembershipComponents, type RestoreTarget } from './membership.js'
import { NETWORK_FAULTS, type FaultKind, type ScheduledFault } from './schedule.js'

/** What was actually done, for the summary: the schedule resolved against the live cluster. */
export interface InjectedFault {
  readonly kind: FaultKind
  /** Milliseconds after the workload started, when injected and when healed. */
  readonly startMs: number
  endMs?: number
  /** Human-readable targets and outcome: "n2 isolated", "n1,n3 | n2,n4,n5". */
  detail: string
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
  /** Administrative HTTP requests to the nodes, relayed by the load generator. */
  readonly admin: AdminCall
  /** The latest commit index each node reported. */
  readonly commitIndex: (id: string) => number | undefined
}

/** Injects one scheduled step and returns how to heal it. */
export interface Nemesis {
  inject(step: ScheduledFault): Promise<{ injected: InjectedFault[], heal: () => Promise<void> }>
  /** Heals everything: network, paused processes, stopped nodes, clock rate. */
  healAll(): Promise<void>
}

/** How long the nemesis keeps trying to make a removed node a voter again. */
const RESTORE_DEADLINE_MS = 30_000
/** How long a removal may take before its outcome is read back from the configuration. */
const REMOVE_TIMEOUT_MS = 4000

export function createNemesis (components: NemesisComponents): Nemesis {
  const { cluster, network } = components
  const ids = (): string[] => cluster.nodes.map((node) => node.host.id)
  const target = (random: SeededRandom, wanted: 'leader' | 'follower' | 'any'): { id: string, note: string } => {
    const leader = components.leader()
    if (wanted === 'leader' && leader !== undefined) return { id: leader, note: 'leader' }
    if (wanted === 'follower' && leader !== undefined) return { id: random.pick(ids().filter((id) => id !== leader)), note: 'follower' }
    const id = random.pick(ids())
    return { id, note: wanted === 'any' ? 'random node' : `no leader known, random node` }
  }
  const membership: MembershipComponents = {
    admin: components.admin,
    commitIndex: components.commitIndex,
    sleep: async (ms) => { await new Promise((resolve) => setTimeout(resolve, ms)) },
    now: () => Date.now()
  }
  const restoreTarget = (id: string): RestoreTarget => {
    const host = cluster.node(id).host
    return { id, peerAddress: `${host.ip}:${host.peerPort}`, apiUrl: `http://${host.ip}:${host.apiPort}` }
  }
  /** Removed nodes not yet voters again. */
  const unrestored = new Set<string>()
  /** Nodes whose removal had an unknown outcome: it may still take effect, so they are checked again at the end. */
  const uncertain = new Set<string>()
  async function restore (id: string): Promise<string> {
    if (cluster.node(id).joins && !cluster.node(id).running) cluster.start(id)
    const result = await restoreVoter(membership, restoreTarget(id), RESTORE_DEADLINE_MS)
    if (result.restored && !uncertain.has(id)) unrestored.delete(id)
    return `${result.restored ? 'voter again' : 'NOT restored'} after ${(result.tookMs / 1000).toFixed(1)} s (${result.steps.join(', ')})`
  }

  /** Re-adds running in the background: the schedule goes on (and may fault the cluster again) meanwhile. */
  const restoring = new Set<Promise<void>>()

  async function healAll (): Promise<void> {
    await Promise.all([...restoring])
    await network.heal()
    for (const node of cluster.nodes) if (node.paused) cluster.resume(node.host.id)
    for (const node of cluster.nodes) if (!node.running) cluster.start(node.host.id)
    if (components.clockVictim !== undefined) cluster.steadyClock()
    // A removal whose outcome was unknown may take effect long after it was asked for (its entry
    // commits once a partition heals), so every node is checked, not only those known removed.
    for (let round = 0; round < 3; round++) {
      let changed = false
      for (const id of ids()) {
        const view = await readMembers(membership)
        if (!unrestored.has(id) && view?.members.some((m) => m.id === id && m.role === 'voter') === true) continue
        uncertain.delete(id)
        await restore(id)
        changed = true
      }
      if (!changed) break
      // Let any change still in flight land before looking again.
      await membership.sleep(2000)
    }
  }

  return {
    healAll,
    async inject (step) {
      const random = createSeededRandom(step.seed)
      const injected: InjectedFault[] = []
      const heals: Array<() => Promise<void>> = []
      // Run once the network faults are in place, and once the network is healed again.
      const afterCut: Array<() => Promise<void>> = []
      const afterHeal: Array<() => Promise<void>> = []
      const cuts: Cut[] = []
      let lossPercent = 0
      const startMs = components.elapsed()
      const record = (kind: FaultKind, detail: string, faultCuts?: Cut[]): InjectedFault => {
        const fault: InjectedFault = { kind, startMs, detail, cuts: faultCuts }
        injected.push(fault)
        return fault
      }

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
          case 'membership':
          case 'membership-partitioned': {
            // One member out at a time: a re-add still running finishes first.
            await Promise.all([...restoring])
            const t = target(random, random.int(2) === 0 ? 'leader' : 'follower')
            // Wiped: the node comes back empty and joins as a new member (what etcd requires of a
            // re-added member). Kept: it stays up with its data while removed, a removed server
            // that may disrupt the rest (Raft dissertation §4.2.3), and is added back as it is.
            const wipe = random.int(2) === 0
            let during = ''
            let faultCuts: Cut[] | undefined
            if (kind === 'membership-partitioned') {
              const p = randomHalves(nodes, random)
              cuts.push(...p.cuts)
              faultCuts = p.cuts
              during = ` during partition ${p.groups.map((g) => g.join(',')).join(' | ')}`
            }
            const fault = record(kind, `remove ${t.id} (${t.note})${during}`, faultCuts)
            afterCut.push(async () => {
              const removed = await removeMember(membership, t.id, REMOVE_TIMEOUT_MS)
              // Only a node certainly out of the configuration may lose its data: wiping a voter
              // would break the durability every quorum relies on.
              if (removed.state === 'removed' && wipe) {
                await cluster.kill(t.id)
                cluster.wipe(t.id)
                fault.detail += ': removed; killed, data wiped'
              } else if (removed.state === 'removed') {
                fault.detail += ': removed; left running with its data'
              } else {
                fault.detail += `: remove ${removed.reply.outcome}${removed.reply.code === undefined ? '' : ` (${removed.reply.code})`}, ${removed.state === 'present' ? 'still a member' : 'configuration unreadable'}`
              }
              unrestored.add(t.id)
              if (removed.reply.outcome === 'unknown' && removed.state !== 'removed') uncertain.add(t.id)
              afterHeal.push(async () => {
                // The re-add (restart, catch-up, promotion) takes seconds to tens of seconds with
                // nodes run from source on a busy machine; it runs while the schedule goes on.
                const done: Promise<void> = restore(t.id).then((outcome) => { fault.detail += `; ${outcome}` }).finally(() => { restoring.delete(done) })
                restoring.add(done)
              })
            })
            break
          }
        }
      }
      if (step.kinds.some((kind) => NETWORK_FAULTS.has(kind) || kind === 'membership-partitioned')) {
        await network.apply({ cuts, lossPercent })
        heals.push(async () => { await network.heal() })
      }
      for (const action of afterCut) await action()
      return {
        injected,
        heal: async () => {
          for (const heal of heals) await heal()
          for (const heal of afterHeal) await heal()
          const endMs = components.elapsed()
          for (const fault of injected) fault.endMs = endMs
        }
      }
    }
  }
}
