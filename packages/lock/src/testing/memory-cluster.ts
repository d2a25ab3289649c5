import {
  InvalidArgumentError, InvalidMembershipError, NotLeaderError, NotStartedError, ProposalDroppedError,
  StoppedError, TimeoutError, TypedEventEmitter, AbortError, throwIfAborted
} from '@synod/interfaces'
import type {
  AbortOptions, ClusterConfig, Clock, NodeId, ProposeOptions, ProposeResult, ReadBarrier,
  ReadBarrierOptions, ReplicatedLog, ReplicatedLogEvents, Role, SnapshotMeta, StateMachine, TimerHandle
} from '@synod/interfaces'
import { systemClock } from '../system-clock.js'

/** What a state machine's `apply` returns. */
export type ResultOf<Machine> = Machine extends StateMachine<infer Result> ? Result : unknown

export interface MemoryClusterOptions<Machine extends StateMachine<unknown>> {
  /** Node ids; the first one leads term 1. @default ['n1'] */
  nodes?: NodeId[]
  /** One state machine per replica (a fresh one each call). */
  machine: (id: NodeId) => Machine
  /** Times commit delays and proposal timeouts. @default systemClock */
  clock?: Clock
  /** Delay between a proposal and its commit; 0 commits on the next microtask. @default 0 */
  commitDelayMs?: number
}

/**
 * An in-memory replicated log for tests and examples: one shared committed log, one state machine
 * per replica, and explicit control over who leads and who is cut off. It is not a consensus
 * algorithm; it gives exactly the `ReplicatedLog` guarantees (one order, applied exactly once on
 * every replica) so code built on the contract can be tested without Raft or Paxos.
 */
export interface MemoryCluster<Machine extends StateMachine<unknown> = StateMachine<unknown>> {
  readonly nodes: readonly NodeId[]
  /** The replica's log. */
  log(id: NodeId): ReplicatedLog<ResultOf<Machine>>
  /** The replica's current state machine. */
  machine(id: NodeId): Machine
  /** The node the connected majority follows. */
  readonly leader: NodeId | undefined
  readonly term: number
  /** Index of the last committed entry. */
  readonly commitIndex: number
  /** Starts a new term led by `id` (which must be connected). An isolated old leader keeps believing it leads until healed. */
  elect(id: NodeId): void
  /** A term with no leader: every connected replica becomes a follower. */
  loseLeader(): void
  /** Cuts a replica off: it applies nothing new, its proposals and reads time out. */
  isolate(id: NodeId): void
  /** Reconnects a replica: it catches up and learns the current leader. */
  heal(id: NodeId): void
  /** Replaces a replica's state machine (a restart): restores its last snapshot, then replays the log. */
  restart(id: NodeId): Promise<void>
}

interface Pending {
  replica: Replica
  resolve: (result: ProposeResult<unknown>) => void
  reject: (err: Error) => void
}

class Replica extends TypedEventEmitter<ReplicatedLogEvents> implements ReplicatedLog<unknown> {
  readonly id: NodeId
  readonly cluster: Cluster
  machine: StateMachine<unknown>
  applied = 0
  role: Role = 'follower'
  term = 0
  isolated = false
  started = false
  snapshotData: { meta: { index: number, term: number }, chunks: Uint8Array[] } | undefined
  readonly waiting = new Map<number, Pending>()
  readonly timers = new Set<TimerHandle>()

  constructor (id: NodeId, cluster: Cluster, machine: StateMachine<unknown>) {
    super()
    this.id = id
    this.cluster = cluster
    this.machine = machine
  }

  async start (): Promise<void> {
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    for (const timer of this.timers) this.cluster.clock.clearTimeout(timer)
    this.timers.clear()
    for (const [index, pending] of this.waiting) {
      this.waiting.delete(index)
      pending.reject(new StoppedError('log stopped'))
    }
  }

  isLeader (): boolean {
    return this.role === 'leader'
  }

  async propose (command: Uint8Array, options: ProposeOptions = {}): Promise<ProposeResult<unknown>> {
    if (!this.started) throw new NotStartedError()
    throwIfAborted(options.signal)
    if (this.role !== 'leader') throw new NotLeaderError(undefined, { leaderHint: this.isolated ? undefined : this.cluster.leader, term: this.term })
    const term = this.term
    return await new Promise((resolve, reject) => {
      let settled = false
      let timeout: TimerHandle
      const finish = (fn: () => void): void => {
        if (settled) return
        settled = true
        if (timeout !== undefined) {
          this.cluster.clock.clearTimeout(timeout)
          this.timers.delete(timeout)
        }
        options.signal?.removeEventListener('abort', onAbort)
        fn()
      }
      // The timeout timer is armed only when the proposal can actually wait (a commit delay, or a
      // cut-off leader): most proposals commit on the next microtask and need none.
      const deadline = this.cluster.clock.now() + (options.timeoutMs ?? 10_000)
      const armTimeout = (): void => {
        timeout ??= this.#timer(() => { finish(() => { reject(new TimeoutError('proposal timed out', { indeterminate: true })) }) }, Math.max(0, deadline - this.cluster.clock.now()))
      }
      const onAbort = (): void => { finish(() => { reject(new AbortError(undefined, { indeterminate: true, cause: options.signal?.reason })) }) }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const commit = (): void => {
        if (settled) return
        // An isolated leader cannot reach a quorum: its proposal never commits and times out.
        if (this.isolated) {
          armTimeout()
          return
        }
        if (this.role !== 'leader' || this.term !== term) {
          finish(() => { reject(new ProposalDroppedError('leadership lost before the proposal committed')) })
          return
        }
        const index = this.cluster.append(command, term)
        this.waiting.set(index, {
          replica: this,
          resolve: (result) => { finish(() => { resolve(result) }) },
          reject: (err) => { finish(() => { reject(err) }) }
        })
        this.cluster.replicate()
      }
      if (this.cluster.commitDelayMs > 0) {
        armTimeout()
        this.#timer(commit, this.cluster.commitDelayMs)
      } else {
        queueMicrotask(commit)
      }
    })
  }

  async readBarrier (options: ReadBarrierOptions = {}): Promise<ReadBarrier> {
    if (!this.started) throw new NotStartedError()
    throwIfAborted(options.signal)
    if (this.role !== 'leader') throw new NotLeaderError(undefined, { leaderHint: this.isolated ? undefined : this.cluster.leader, term: this.term })
    if (this.isolated) {
      await new Promise((_resolve, reject) => { this.#timer(() => { reject(new TimeoutError('read barrier timed out')) }, options.timeoutMs ?? 10_000) })
    }
    return { index: this.applied, term: this.term }
  }

  status (): ReturnType<ReplicatedLog['status']> {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.isolated ? undefined : this.cluster.leader,
      commitIndex: this.applied,
      appliedIndex: this.applied,
      firstIndex: (this.snapshotData?.meta.index ?? 0) + 1,
      lastIndex: this.cluster.entries.length,
      config: this.cluster.config()
    }
  }

  async changeMembership (): Promise<ClusterConfig> {
    throw new InvalidMembershipError('the in-memory log has a fixed membership')
  }

  async transferLeadership (to?: NodeId, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    const target = to ?? this.cluster.nodes.find((id) => id !== this.id && !this.cluster.replica(id).isolated)
    if (target === undefined) throw new InvalidArgumentError('no replica to transfer leadership to')
    this.cluster.elect(target)
  }

  async snapshot (options?: AbortOptions): Promise<SnapshotMeta> {
    const chunks: Uint8Array[] = []
    const index = this.applied
    const term = this.cluster.entries[index - 1]?.term ?? 0
    for await (const chunk of this.machine.snapshot(options)) chunks.push(chunk)
    this.snapshotData = { meta: { index, term }, chunks }
    const meta: SnapshotMeta = { index, term, config: this.cluster.config(), size: chunks.reduce((n, c) => n + c.byteLength, 0), checksum: 'none' }
    this.safeDispatch('snapshot', { meta })
    return meta
  }

  /** Applies every committed entry this replica has not applied yet. */
  catchUp (): void {
    while (this.applied < this.cluster.entries.length) {
      const entry = this.cluster.entries[this.applied] as { term: number, data: Uint8Array }
      const index = this.applied + 1
      let result: unknown
      let failure: Error | undefined
      try {
        result = this.machine.apply({ index, term: entry.term, data: entry.data })
      } catch (err) {
        failure = err as Error
      }
      this.applied = index
      this.safeDispatch('applied', { index })
      const pending = this.waiting.get(index)
      if (pending !== undefined) {
        this.waiting.delete(index)
        if (failure !== undefined) pending.reject(failure)
        else pending.resolve({ index, term: entry.term, result })
      }
    }
  }

  setRole (role: Role, term: number, leader: NodeId | undefined): void {
    const changed = role !== this.role || term !== this.term
    this.role = role
    this.term = term
    if (changed) {
      this.safeDispatch('role', { role, term })
      this.safeDispatch('leader', { leader, term })
    }
  }

  #timer (callback: () => void, ms: number): TimerHandle {
    const handle = this.cluster.clock.setTimeout(() => {
      this.timers.delete(handle)
      callback()
    }, ms)
    this.timers.add(handle)
    return handle
  }
}

class Cluster implements MemoryCluster {
  readonly nodes: readonly NodeId[]
  readonly clock: Clock
  readonly commitDelayMs: number
  readonly entries: Array<{ term: number, data: Uint8Array }> = []
  readonly #replicas = new Map<NodeId, Replica>()
  readonly #machineFor: (id: NodeId) => StateMachine<unknown>
  leader: NodeId | undefined
  term = 0

  constructor (options: MemoryClusterOptions<StateMachine<unknown>>) {
    this.nodes = options.nodes ?? ['n1']
    if (this.nodes.length === 0) throw new InvalidArgumentError('a cluster needs at least one node', { field: 'nodes' })
    this.clock = options.clock ?? systemClock
    this.commitDelayMs = options.commitDelayMs ?? 0
    this.#machineFor = options.machine
    for (const id of this.nodes) this.#replicas.set(id, new Replica(id, this, options.machine(id)))
    this.elect(this.nodes[0] as NodeId)
  }

  get commitIndex (): number {
    return this.entries.length
  }

  replica (id: NodeId): Replica {
    const replica = this.#replicas.get(id)
    if (replica === undefined) throw new InvalidArgumentError(`unknown node ${id}`, { field: 'id' })
    return replica
  }

  log (id: NodeId): ReplicatedLog<unknown> {
    return this.replica(id)
  }

  machine (id: NodeId): StateMachine<unknown> {
    return this.replica(id).machine
  }

  config (): ClusterConfig {
    return { voters: [...this.nodes], learners: [], addresses: {} }
  }

  append (data: Uint8Array, term: number): number {
    this.entries.push({ term, data })
    return this.entries.length
  }

  replicate (): void {
    for (const replica of this.#replicas.values()) {
      if (!replica.isolated) replica.catchUp()
    }
  }

  elect (id: NodeId): void {
    const next = this.replica(id)
    if (next.isolated) throw new InvalidArgumentError(`${id} is isolated and cannot win an election`)
    this.term++
    this.leader = id
    // The winner has every committed entry (Raft's election restriction), so it is caught up first.
    next.catchUp()
    for (const replica of this.#replicas.values()) {
      if (replica.isolated) continue
      replica.setRole(replica === next ? 'leader' : 'follower', this.term, id)
    }
  }

  loseLeader (): void {
    this.term++
    this.leader = undefined
    for (const replica of this.#replicas.values()) {
      if (!replica.isolated) replica.setRole('follower', this.term, undefined)
    }
  }

  isolate (id: NodeId): void {
    this.replica(id).isolated = true
    if (this.leader === id) this.leader = undefined
  }

  heal (id: NodeId): void {
    const replica = this.replica(id)
    if (!replica.isolated) return
    replica.isolated = false
    replica.catchUp()
    const role: Role = this.leader === id ? 'leader' : 'follower'
    replica.setRole(role, this.term, this.leader)
  }

  async restart (id: NodeId): Promise<void> {
    const replica = this.replica(id)
    for (const [index, pending] of replica.waiting) {
      replica.waiting.delete(index)
      pending.reject(new StoppedError('replica restarted'))
    }
    replica.machine = this.#machineFor(id)
    replica.applied = 0
    const saved = replica.snapshotData
    if (saved !== undefined) {
      await replica.machine.restore((async function * () { yield * saved.chunks })(), saved.meta)
      replica.applied = saved.meta.index
    }
    if (this.leader === id) this.loseLeader()
    else replica.setRole('follower', this.term, this.leader)
    if (!replica.isolated) replica.catchUp()
  }
}

/** Creates an in-memory cluster whose first node leads term 1. Start each `log(id)` before use. */
export function createMemoryCluster<Machine extends StateMachine<unknown>> (options: MemoryClusterOptions<Machine>): MemoryCluster<Machine> {
  return new Cluster(options) as unknown as MemoryCluster<Machine>
}
