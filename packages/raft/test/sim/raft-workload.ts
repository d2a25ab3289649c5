import type { AppliedCommand, LogStorage, NodeId } from '@synod/interfaces'
import { checkHistory, createHistoryRecorder, createKvModel, formatReport, nanosFromClock } from '@synod/lincheck'
import type { HistoryRecorder } from '@synod/lincheck'
import { allFaults, createNemesis, createSimCluster, defineWorkload, uniform } from '@synod/sim'
import type { SimCluster, Simulation, Workload, WorkloadContext, WorkloadStats } from '@synod/sim'
import { createRaftNode } from '../../src/index.js'
import type { CommitPropagation, RaftNode, RaftWireMessage } from '../../src/index.js'
import { KvStateMachine, encodeKv } from '../harness/kv.js'
import type { KvResult } from '../harness/kv.js'

/**
 * The Raft simulation workload: a replicated KV store on 3 or 5 nodes under every nemesis the
 * simulator has (partitions of each shape, loss, duplication, reordering, crash-restart losing
 * unsynced writes, clock drift) plus membership changes and leadership transfers.
 *
 * Checked on every run: Election Safety (one leader per term), Log Matching, Leader Completeness,
 * State Machine Safety, linearizability of the client history (@synod/lincheck), and liveness:
 * once the faults stop, a leader is elected and a write commits within a bounded time.
 */

interface RaftApp {
  node: RaftNode<KvResult>
  kv: KvStateMachine
  log: LogStorage
}

const decoder = new TextDecoder()

class Invariants {
  readonly leaderOfTerm = new Map<number, NodeId>()
  /** index -> term and data of the committed entry, as first applied anywhere. */
  readonly committed = new Map<number, { term: number, data: string, leaderTermBound: number }>()
  violations: string[] = []

  leader (id: NodeId, term: number): void {
    const known = this.leaderOfTerm.get(term)
    if (known !== undefined && known !== id) this.violations.push(`election safety: ${known} and ${id} both lead term ${term}`)
    this.leaderOfTerm.set(term, id)
  }

  applied (id: NodeId, command: AppliedCommand, leaderTerm: number | undefined): void {
    const data = decoder.decode(command.data)
    const known = this.committed.get(command.index)
    if (known === undefined) {
      this.committed.set(command.index, { term: command.term, data, leaderTermBound: leaderTerm ?? Number.POSITIVE_INFINITY })
      return
    }
    if (known.term !== command.term || known.data !== data) {
      this.violations.push(`state machine safety: ${id} applied ${command.index}@${command.term} ${data}, others ${known.term} ${known.data}`)
    }
    if (leaderTerm !== undefined && leaderTerm < known.leaderTermBound) known.leaderTermBound = leaderTerm
  }

  /**
   * Leader Completeness: an entry applied by a leader of term L was committed in a term <= L, so
   * every leader of a later term holds it.
   */
  checkLeaderLog (id: NodeId, term: number, log: LogStorage): void {
    for (const [index, entry] of this.committed) {
      if (entry.leaderTermBound >= term || index < log.firstIndex()) continue
      const held = log.term(index)
      if (held !== entry.term) this.violations.push(`leader completeness: ${id} leads term ${term} without committed ${index}@${entry.term} (has ${String(held)})`)
    }
  }

  /** Log Matching: if two logs hold an entry with the same index and term, they agree up to it. */
  checkLogMatching (logs: Array<[NodeId, LogStorage]>): void {
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) {
        const [idA, a] = logs[i]!
        const [idB, b] = logs[j]!
        const first = Math.max(a.firstIndex(), b.firstIndex())
        let matched = false
        for (let index = Math.min(a.lastIndex(), b.lastIndex()); index >= first; index--) {
          if (!matched && a.term(index) !== undefined && a.term(index) === b.term(index)) matched = true
          else if (matched && a.term(index) !== b.term(index)) {
            this.violations.push(`log matching: ${idA} and ${idB} agree at a later index but differ at ${index}`)
            return
          }
        }
      }
    }
  }
}

function boot (invariants: Invariants, ids: NodeId[], traceApplies: boolean, commitPropagation: CommitPropagation) {
  return async (ctx: Parameters<Parameters<typeof createSimCluster<RaftApp, RaftWireMessage>>[1]['boot']>[0]): Promise<RaftApp> => {
    const kv = new KvStateMachine()
    const log = ctx.disk.log()
    const self: { node?: RaftNode<KvResult> } = {}
    const stateMachine = {
      apply: (command: AppliedCommand): KvResult => {
        const status = self.node?.status()
        invariants.applied(ctx.id, command, status?.role === 'leader' ? status.term : undefined)
        const result = kv.apply(command)
        if (traceApplies) ctx.log(`apply ${command.index}@${command.term} ${decoder.decode(command.data)} -> ${JSON.stringify(result)}`)
        return result
      },
      snapshot: () => kv.snapshot(),
      restore: async (chunks: AsyncIterable<Uint8Array>) => { await kv.restore(chunks) }
    }
    const node = createRaftNode<KvResult>({
      id: ctx.id,
      bootstrap: { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) },
      tickMs: 10,
      snapshotEveryEntries: 150,
      compactionLagEntries: 30,
      snapshotChunkBytes: 128,
      defaultTimeoutMs: 2000,
      commitPropagation
    }, { transport: ctx.transport, log, hardState: ctx.disk.hardState(), snapshots: ctx.disk.snapshots(), stateMachine, clock: ctx.clock, random: ctx.random })
    self.node = node
    const started = node
    started.addEventListener('role', (event) => {
      if (event.detail.role !== 'leader') return
      invariants.leader(ctx.id, event.detail.term)
      invariants.checkLeaderLog(ctx.id, event.detail.term, log)
    })
    await started.start()
    return { node: started, kv, log }
  }
}

function withTimeout<T> (sim: Simulation, promise: Promise<T>, ms: number): Promise<T> {
  // A crashed process never settles its promises; the client gives up on its own clock.
  return new Promise<T>((resolve, reject) => {
    const timer = sim.clock.setTimeout(() => { reject(Object.assign(new Error('client timeout'), { code: 'ERR_TIMEOUT', indeterminate: true })) }, ms)
    promise.then((v) => { sim.clock.clearTimeout(timer); resolve(v) }, (e: unknown) => { sim.clock.clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))) })
  })
}

async function runRaftKv (context: WorkloadContext, size: number): Promise<WorkloadStats> {
  const { sim, duration, settings } = context
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
  const invariants = new Invariants()
  const netRandom = sim.random.fork('workload-network')
  const cluster: SimCluster<RaftApp, RaftWireMessage> = createSimCluster<RaftApp, RaftWireMessage>(sim, {
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
    // `--set trace=applies` writes every applied command to the trace.
    // `--set commit=lazy` runs with lazy commit propagation (default eager).
    boot: boot(invariants, ids, settings.trace === 'applies', (settings.commit ?? 'eager') as CommitPropagation),
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
  const running = (): RaftApp[] => cluster.running().map((n) => n.app).filter((a): a is RaftApp => a !== undefined)
  const leader = (): RaftApp | undefined => running().find((a) => a.node.isLeader())

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

  // Operator actions: leadership transfers and membership changes (remove a follower, re-add it as a learner, promote it).
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

  const logCheck = (): void => {
    invariants.checkLogMatching(running().map((a) => [a.node.id, a.log]))
  }
  for (let t = 500; t < duration; t += 500) sim.clock.setTimeout(logCheck, t)

  await sim.runUntilTime(faultsEnd)
  nemesis.stop()
  nemesis.healAll()
  // Liveness: restore full membership and expect a commit within a bounded time after healing.
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
  logCheck()
  if (!committedAfterHeal) {
    const states = cluster.nodes().map((n) => {
      const st = n.app?.node.status()
      return st === undefined ? `${n.id}: down` : `${n.id}: ${st.role} term ${st.term} leader ${String(st.leader)} commit ${st.commitIndex} applied ${st.appliedIndex} last ${st.lastIndex} voters ${st.config.voters.join(',')} learners ${st.config.learners.join(',')}`
    })
    invariants.violations.push(`liveness: no commit within 5000 ms of healing (at ${healedAt}); ${states.join('; ')}`)
  }
  if (invariants.violations.length > 0) throw new Error(invariants.violations.slice(0, 5).join('\n'))

  const model = createKvModel()
  const result = checkHistory(recorder.history(), { model })
  if (result.verdict !== 'linearizable') throw new Error(`history is ${result.verdict}\n${formatReport(result, model)}`)
  return { ops, okOps, transfers, changes, faults: nemesis.history.length, leaders: invariants.leaderOfTerm.size, commits: invariants.committed.size }
}

async function sleep (sim: Simulation, ms: number): Promise<void> {
  await new Promise<void>((resolve) => { sim.clock.setTimeout(resolve, ms) })
}

export const raftWorkload: Workload = defineWorkload({
  name: 'raft',
  description: 'Raft KV on 3 nodes under every fault, transfers and membership changes; safety invariants, lincheck, liveness',
  duration: 6000,
  run: async (context) => await runRaftKv(context, Number(context.settings.nodes ?? 3))
})

export const raft5Workload: Workload = defineWorkload({
  name: 'raft-5',
  description: 'the raft workload on 5 nodes',
  duration: 6000,
  run: async (context) => await runRaftKv(context, Number(context.settings.nodes ?? 5))
})

export const workloads: Workload[] = [raftWorkload, raft5Workload]
