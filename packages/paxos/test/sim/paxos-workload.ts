import type { AppliedCommand, NodeId } from '@synod/interfaces'
import { checkHistory, createHistoryRecorder, createKvModel, formatReport, nanosFromClock } from '@synod/lincheck'
import type { HistoryRecorder } from '@synod/lincheck'
import { allFaults, createNemesis, createSimCluster, defineWorkload, uniform } from '@synod/sim'
import type { SimCluster, Simulation, Workload, WorkloadContext, WorkloadStats } from '@synod/sim'
import { createPaxosNode, formatBallot } from '../../src/index.js'
import type { PaxosHardState, PaxosNode, PaxosWireMessage } from '../../src/index.js'
import { KvStateMachine, encodeKv } from '../harness/kv.js'
import type { KvResult } from '../harness/kv.js'

/**
 * The Paxos simulation workload, the same as Raft's: a replicated KV store on 3 or 5 nodes under
 * every nemesis the simulator has (partitions of each shape, loss, duplication, reordering,
 * crash-restart losing unsynced writes, torn writes, slow disks, clock drift) plus membership
 * changes and leadership transfers.
 *
 * `--set preVote=false` runs the nodes without pre-votes, to compare how often leadership changes.
 *
 * Checked on every run: one leader per ballot, agreement per slot (every replica applies the
 * same value at each slot), linearizability of the client history (@synod/lincheck), and
 * liveness: once the faults stop, a write commits within a bounded time.
 */

interface PaxosApp {
  node: PaxosNode<KvResult>
  kv: KvStateMachine
}

const decoder = new TextDecoder()

class Invariants {
  readonly leaderOfBallot = new Map<string, NodeId>()
  /** slot -> value as first applied anywhere. */
  readonly applied = new Map<number, string>()
  violations: string[] = []

  leader (id: NodeId, ballot: string): void {
    const known = this.leaderOfBallot.get(ballot)
    if (known !== undefined && known !== id) this.violations.push(`ballot uniqueness: ${known} and ${id} both lead ballot ${ballot}`)
    this.leaderOfBallot.set(ballot, id)
  }

  apply (id: NodeId, command: AppliedCommand): void {
    const data = decoder.decode(command.data)
    const known = this.applied.get(command.index)
    if (known === undefined) this.applied.set(command.index, data)
    else if (known !== data) this.violations.push(`agreement: ${id} applied ${data} at slot ${command.index}, another replica ${known}`)
  }
}

function boot (invariants: Invariants, ids: NodeId[], preVote: boolean | undefined) {
  return async (ctx: Parameters<Parameters<typeof createSimCluster<PaxosApp, PaxosWireMessage>>[1]['boot']>[0]): Promise<PaxosApp> => {
    const kv = new KvStateMachine()
    const stateMachine = {
      apply: (command: AppliedCommand): KvResult => {
        invariants.apply(ctx.id, command)
        return kv.apply(command)
      },
      snapshot: () => kv.snapshot(),
      restore: async (chunks: AsyncIterable<Uint8Array>) => { await kv.restore(chunks) }
    }
    const node = createPaxosNode<KvResult>({
      id: ctx.id,
      bootstrap: { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) },
      tickMs: 10,
      preVote,
      activationWindow: 16,
      snapshotEveryEntries: 150,
      compactionLagEntries: 30,
      snapshotChunkBytes: 128,
      // A lost chunk is retried after a few round trips, not the production default of 10 s
      // (the liveness check allows 1.8 s after healing).
      snapshotChunkTimeoutMs: 300,
      defaultTimeoutMs: 2000
    }, { transport: ctx.transport, log: ctx.disk.log(), hardState: ctx.disk.hardState<PaxosHardState>(), snapshots: ctx.disk.snapshots(), stateMachine, clock: ctx.clock, random: ctx.random })
    node.addEventListener('role', (event) => {
      if (event.detail.role === 'leader') invariants.leader(ctx.id, formatBallot(node.status().ballot))
    })
    await node.start()
    return { node, kv }
  }
}

function withTimeout<T> (sim: Simulation, promise: Promise<T>, ms: number): Promise<T> {
  // A crashed process never settles its promises; the client gives up on its own clock.
  return new Promise<T>((resolve, reject) => {
    const timer = sim.clock.setTimeout(() => { reject(Object.assign(new Error('client timeout'), { code: 'ERR_TIMEOUT', indeterminate: true })) }, ms)
    promise.then((v) => { sim.clock.clearTimeout(timer); resolve(v) }, (e: unknown) => { sim.clock.clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))) })
  })
}

async function runPaxosKv (context: WorkloadContext, size: number): Promise<WorkloadStats> {
  const { sim, duration, settings } = context
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
  const invariants = new Invariants()
  const netRandom = sim.random.fork('workload-network')
  const cluster: SimCluster<PaxosApp, PaxosWireMessage> = createSimCluster<PaxosApp, PaxosWireMessage>(sim, {
    nodes: ids,
    network: {
      latency: uniform(1, 8),
      loss: Number(settings.loss ?? netRandom.floatBetween(0, 0.05)),
      duplicate: Number(settings.duplicate ?? netRandom.floatBetween(0, 0.03)),
      reorder: Number(settings.reorder ?? netRandom.floatBetween(0, 0.05)),
      traceMessages: false
    },
    // Clocks drift within the lease's 10% bound.
    clocks: Object.fromEntries(ids.map((id) => [id, { rate: netRandom.floatBetween(0.98, 1.02) }])),
    boot: boot(invariants, ids, settings.preVote === undefined ? undefined : settings.preVote !== 'false'),
    shutdown: async (app) => { await app.node.stop() }
  })
  void cluster.startAll()
  const faultsEnd = duration * 0.7
  const nemesis = createNemesis(cluster, { faults: allFaults, interval: uniform(100, 800), duration: uniform(200, 1500) })
  nemesis.start({ until: faultsEnd })

  const recorder: HistoryRecorder = createHistoryRecorder({}, { nowNs: nanosFromClock(sim.clock) })
  const clients = sim.random.fork('clients')
  const keys = ['a', 'b', 'c']
  let ops = 0
  let okOps = 0
  const running = (): PaxosApp[] => cluster.running().map((n) => n.app).filter((a): a is PaxosApp => a !== undefined)
  const leader = (): PaxosApp | undefined => running().find((a) => a.node.isLeader())

  const clientLoop = async (client: number): Promise<void> => {
    let n = 0
    while (sim.now() < duration * 0.85) {
      const up = running()
      if (up.length === 0) { await sleep(sim, 20); continue }
      const app = clients.pick(up)
      const key = clients.pick(keys)
      const roll = clients.next()
      ops++
      try {
        if (roll < 0.4) {
          const value = `${client}.${n++}`
          await recorder.record({ client, op: 'put', key, value }, () => withTimeout(sim, app.node.propose(encodeKv({ op: 'put', key, value })), 1000))
        } else if (roll < 0.6) {
          const expected = clients.chance(0.5) ? null : `${client}.${Math.max(0, n - 1)}`
          const value = `${client}.${n++}`
          await recorder.record({ client, op: 'cas', key, value, expected }, () => withTimeout(sim, app.node.propose(encodeKv({ op: 'cas', key, expected, value })), 1000), (r) => ({ ok: r.result.ok }))
        } else {
          const mode = roll < 0.8 ? 'read-index' : 'lease'
          await recorder.record({ client, op: 'get', key }, async () => {
            await withTimeout(sim, app.node.readBarrier({ mode, timeoutMs: 1000 }), 1000)
            return app.kv.get(key)
          }, (value) => ({ output: value }))
        }
        okOps++
      } catch {
        await sleep(sim, clients.intBetween(5, 30))
      }
    }
  }
  const clientCount = Number(settings.clients ?? 3)
  for (let c = 1; c <= clientCount; c++) sim.spawn(`client-${c}`, () => clientLoop(c))

  // Operator actions: leadership transfers and membership changes (remove a voter, re-add it as a learner, promote it).
  const operator = sim.random.fork('operator')
  let transfers = 0
  let changes = 0
  sim.spawn('operator', async () => {
    while (sim.now() < faultsEnd) {
      await sleep(sim, operator.intBetween(300, 1200))
      const current = leader()
      if (current === undefined) continue
      try {
        if (operator.chance(0.5)) {
          await withTimeout(sim, current.node.transferLeadership(), 1000)
          transfers++
        } else {
          const config = current.node.status().config
          const others = config.voters.filter((id) => id !== current.node.id)
          const missing = ids.find((id) => !config.voters.includes(id) && !config.learners.includes(id))
          const learner = config.learners[0]
          if (learner !== undefined) await withTimeout(sim, current.node.changeMembership({ type: 'promote', id: learner }), 1000)
          else if (missing !== undefined) await withTimeout(sim, current.node.changeMembership({ type: 'add-learner', id: missing, address: missing }), 1000)
          else if (others.length >= 2) await withTimeout(sim, current.node.changeMembership({ type: 'remove', id: operator.pick(others) }), 1000)
          changes++
        }
      } catch { /* refused or timed out: faults are active */ }
    }
  })

  await sim.runUntilTime(faultsEnd)
  nemesis.stop()
  nemesis.healAll()
  const healedAt = sim.now()
  let committedAfterHeal = false
  sim.spawn('liveness', async () => {
    while (!committedAfterHeal && sim.now() < healedAt + 5000) {
      const current = leader()
      if (current !== undefined) {
        try {
          await withTimeout(sim, current.node.propose(encodeKv({ op: 'put', key: 'liveness', value: 'ok' })), 500)
          committedAfterHeal = true
          break
        } catch { /* retry */ }
      }
      await sleep(sim, 50)
    }
  })
  await sim.runUntilTime(duration)
  if (!committedAfterHeal) invariants.violations.push(`liveness: no commit within 5000 ms of healing (at ${healedAt})`)
  if (invariants.violations.length > 0) throw new Error(invariants.violations.slice(0, 5).join('\n'))

  const model = createKvModel()
  const result = checkHistory(recorder.history(), { model })
  if (result.verdict !== 'linearizable') throw new Error(`history is ${result.verdict}\n${formatReport(result, model)}`)
  return { ops, okOps, transfers, changes, faults: nemesis.history.length, leaders: invariants.leaderOfBallot.size, commits: invariants.applied.size }
}

async function sleep (sim: Simulation, ms: number): Promise<void> {
  await new Promise<void>((resolve) => { sim.clock.setTimeout(resolve, ms) })
}

export const paxosWorkload: Workload = defineWorkload({
  name: 'paxos',
  description: 'Multi-Paxos KV on 3 nodes under every fault, transfers and membership changes; agreement per slot, lincheck, liveness',
  duration: 6000,
  run: async (context) => await runPaxosKv(context, Number(context.settings.nodes ?? 3))
})

export const paxos5Workload: Workload = defineWorkload({
  name: 'paxos-5',
  description: 'the paxos workload on 5 nodes',
  duration: 6000,
  run: async (context) => await runPaxosKv(context, Number(context.settings.nodes ?? 5))
})

export const workloads: Workload[] = [paxosWorkload, paxos5Workload]
