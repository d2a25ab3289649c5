import {
  AbortError, InvalidMembershipError, NotLeaderError, NotStartedError, OverloadedError, ProposalDroppedError,
  StoppedError, SynodError, TimeoutError, TypedEventEmitter, throwIfAborted
} from '@synod/interfaces'
import type {
  AbortOptions, ClusterConfig, LogEntry, Logger, MembershipChange, NodeId, ProposeOptions, ProposeResult, Random, ReadBarrier,
  ReadBarrierOptions, ReplicatedLog, ReplicatedLogEvents, ReplicatedLogStatus, SnapshotMeta, TimerHandle
} from '@synod/interfaces'
import { createPaxosCore, decodeConfig } from '../core/index.js'
import type { Ballot, PaxosCore, PaxosHardState, PaxosPeerStatus, PaxosReady, PaxosSnapshotPoint, SnapshotChunk, SnapshotChunkAck, SnapshotSend } from '../core/index.js'
import { DeadlineWheel, IndexWindow, LatencyWindow } from './metrics.js'
import { PendingOperation } from './pending.js'
import type { PendingHost } from './pending.js'
import { resolveNodeInit } from './options.js'
import type { PaxosNodeComponents, PaxosNodeInit, ResolvedNodeInit } from './options.js'
import { isWireMessage } from './wire.js'
import type { ForwardPropose, ForwardProposeResult, PaxosWireMessage } from './wire.js'

/** Status of a Paxos node: the ReplicatedLog status plus Paxos's own details. */
export interface PaxosNodeStatus extends ReplicatedLogStatus {
  /** The ballot this node leads with (the zero ballot unless leading). */
  ballot: Ballot
  /** The highest ballot this acceptor promised. */
  promised: Ballot
  persistedIndex: number
  /** True while recovering from lost state: not voting until caught up. */
  recovering: boolean
  /** Per-peer replication progress (only on the leader). */
  progress: Record<NodeId, PaxosPeerStatus>
  leaderChanges: number
}

/** Counters and latency figures for dashboards. */
export interface PaxosMetrics {
  proposals: number
  proposalsFailed: number
  appliedEntries: number
  leaderChanges: number
  snapshotsTaken: number
  snapshotsSent: number
  snapshotsInstalled: number
  /** Proposal latency (call to committed-and-applied) over the most recent proposals, in ms. */
  proposalLatencyMs: { p50: number | undefined, p99: number | undefined }
}

/** A Multi-Paxos node: the `ReplicatedLog` contract plus Paxos status and metrics. */
export interface PaxosNode<Result = unknown> extends ReplicatedLog<Result> {
  status(): PaxosNodeStatus
  metrics(): PaxosMetrics
}

/**
 * Creates a Multi-Paxos node that drives a core with real storage, transport and clock.
 *
 * Each Ready is handled as: send the leader's accepts at once, hand chosen slots to the apply
 * queue (they are durable on a phase-2 quorum already), install a received snapshot, write the
 * accepted slots and then a changed promise durably (a commit-hint-only change is saved beside
 * them, unawaited), send the other messages (promises and acknowledgements only once what they
 * vouch for is durable; a failed write stops the node without sending them), then advance the core.
 */
export function createPaxosNode<Result = unknown> (init: PaxosNodeInit, components: PaxosNodeComponents<Result>): PaxosNode<Result> {
  return new PaxosNodeImpl<Result>(resolveNodeInit(init), components)
}


interface IncomingSnapshot {
  index: number
  term: number
  writer: Awaited<ReturnType<PaxosNodeComponents['snapshots']['begin']>>
  position: number
}

const EMPTY = new Uint8Array(0)

function cryptoRandom (): Random {
  const next = (): number => {
    const buffer = new Uint32Array(1)
    globalThis.crypto.getRandomValues(buffer)
    return (buffer[0] ?? 0) / 4294967296
  }
  return { next, int: (max) => Math.floor(next() * max) }
}

function errorFromCode (code: string, leaderHint: NodeId | null): Error {
  switch (code) {
    case NotLeaderError.code: return new NotLeaderError('not the leader', { leaderHint: leaderHint ?? undefined })
    case OverloadedError.code: return new OverloadedError()
    case ProposalDroppedError.code: return new ProposalDroppedError()
    default: return new SynodError(`forwarded proposal failed: ${code}`, code)
  }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** The bytes of the config slot at `index`, so its pending operation recognises it when applied. */
function encodeConfigBytes (core: PaxosCore, index: number): Uint8Array {
  return core.proposedValue(index) ?? EMPTY
}

function codeOf (error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'ERR_SYNOD'
}

class PaxosNodeImpl<Result> extends TypedEventEmitter<ReplicatedLogEvents> implements PaxosNode<Result>, PendingHost {
  readonly id: NodeId
  readonly #init: ResolvedNodeInit
  readonly #c: PaxosNodeComponents<Result>
  readonly #logger: Logger | undefined
  #core: PaxosCore | undefined
  #started = false
  #unsubscribe: (() => void) | undefined
  // The Ready loop.
  #processing = false
  #processScheduled = false
  /** The Ready in flight persists no new promise and installs no snapshot: `#sendEarly` may run. */
  #earlyAllowed = false
  #loopDone: Promise<void> = Promise.resolve()
  // Ticks, computed from the clock so a stalled event loop never shortens the lease (see README).
  #tickTimer: TimerHandle = undefined
  #startedAt = 0
  #ticksDone = 0
  #lastCommitSave = -1
  /** A commit-hint save in flight (the Ready loop does not wait for those). */
  #hintSaving: Promise<void> | undefined
  #savedPromise: PaxosHardState | undefined
  // Proposals.
  #queue: PendingOperation[] = []
  #awaitingLeader: PendingOperation[] = []
  #flushScheduled = false
  readonly #pendingByIndex = new IndexWindow<PendingOperation>()
  readonly #forwarded = new Map<number, PendingOperation[]>()
  #nextRequestId = 1
  /** Names this incarnation's forwarded requests, so a restarted node's ids never collide with old ones. */
  #session = 0
  /** Answers to recent forwarded batches: a duplicated request must not be proposed twice. */
  readonly #forwardAnswers = new Map<string, Pick<ForwardProposeResult, 'index' | 'round' | 'errorCode'>>()
  readonly #deadlines = new DeadlineWheel<PendingOperation>((pending) => !pending.settled)
  // Reads and waiters.
  readonly #reads = new Map<string, PendingOperation>()
  #nextReadId = 1
  #appliedWaiters: Array<{ index: number, resolve: () => void }> = []
  readonly #leaderWaiters = new Set<(leader: NodeId | undefined) => void>()
  // Apply state (the state machine's view).
  #applyChain: Promise<void> = Promise.resolve()
  #applied = 0
  #appliedTerm = 0
  #appliedConfig: ClusterConfig = { voters: [], learners: [], addresses: {} }
  /** Configuration slots applied but not yet in force (they govern slots α later). */
  #pendingConfigs: Array<{ activation: number, config: ClusterConfig }> = []
  #skipCommandsUntil = 0
  #lastSnapshotIndex = 0
  #bytesSinceSnapshot = 0
  #snapshotting = false
  // Snapshot transfer.
  readonly #sending = new Set<string>()
  readonly #ackWaiters = new Map<string, (ack: SnapshotChunkAck | undefined) => void>()
  #incoming: IncomingSnapshot | undefined
  #incomingChain: Promise<void> = Promise.resolve()
  // Metrics.
  readonly #latency = new LatencyWindow()
  #proposals = 0
  #proposalsFailed = 0
  #appliedEntries = 0
  #snapshotsTaken = 0
  #snapshotsSent = 0
  #snapshotsInstalled = 0

  constructor (init: ResolvedNodeInit, components: PaxosNodeComponents<Result>) {
    super()
    this.id = init.id
    this.#init = init
    this.#c = components
    this.#logger = components.logger?.child({ component: 'paxos', node: init.id })
  }

  // ---------------------------------------------------------------- lifecycle

  async start (): Promise<void> {
    if (this.#started) return
    const { transport, log, hardState, snapshots, stateMachine } = this.#c
    await log.start()
    await hardState.start()
    await snapshots.start()
    let recovering = this.#init.recovering === true
    let hard: PaxosHardState | undefined
    try {
      hard = await hardState.load()
    } catch (error) {
      // Corrupt state is lost state: come back as a recovering replica (Paxos Made Live §5.1).
      this.#logger?.warn({ error }, 'promise state unreadable; recovering')
      recovering = true
    }
    let latest = await snapshots.latest()
    const empty = latest === undefined && hard === undefined && log.lastIndex() === 0
    if (empty && this.#init.bootstrap === undefined) recovering = true
    if (empty && this.#init.bootstrap !== undefined && !recovering) {
      // The bootstrap configuration is stored as an empty snapshot at slot 0, so a restart
      // finds it even if the app forgets to pass it again.
      const writer = await snapshots.begin({ index: 0, term: 0, config: this.#init.bootstrap })
      latest = await writer.commit()
    }
    let smApplied = stateMachine.appliedIndex?.() ?? 0
    if (latest !== undefined && latest.index > 0) {
      if (smApplied < latest.index) {
        await stateMachine.restore(snapshots.read({ index: latest.index }), { index: latest.index, term: latest.term })
        smApplied = latest.index
      }
      if (log.firstIndex() > latest.index + 1 || log.lastIndex() < latest.index) await log.compactPrefix(latest.index, latest.term)
    }
    const point: PaxosSnapshotPoint = latest !== undefined
      ? { index: latest.index, term: latest.term, config: latest.config }
      : { index: 0, term: 0, config: this.#init.bootstrap ?? { voters: [], learners: [], addresses: {} } }
    let entries = log.lastIndex() >= log.firstIndex() ? await log.entries(log.firstIndex(), log.lastIndex() + 1, { maxBytes: Number.MAX_SAFE_INTEGER }) : []
    if (entries.length > 0 && entries[0]!.index > point.index + 1) entries = []
    try {
      this.#core = createPaxosCore({ ...this.#init, id: this.id, random: this.#c.random ?? cryptoRandom(), hardState: hard, snapshot: point, entries, recovering })
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_INVALID_ARGUMENT') throw error
      this.#logger?.warn({ error }, 'accepted slots unreadable; recovering')
      await log.truncateSuffix(log.firstIndex())
      this.#core = createPaxosCore({ ...this.#init, id: this.id, random: this.#c.random ?? cryptoRandom(), hardState: undefined, snapshot: point, entries: [], recovering: true })
    }
    this.#session = Math.floor((this.#c.random ?? cryptoRandom()).next() * 2 ** 48)
    this.#applied = point.index
    this.#appliedTerm = point.term
    this.#appliedConfig = point.config
    this.#lastSnapshotIndex = point.index
    this.#skipCommandsUntil = smApplied
    this.#updatePeers(point.config)
    this.#unsubscribe = transport.onMessage((from, message) => { this.#onMessage(from, message) })
    await transport.start()
    this.#started = true
    this.#startedAt = this.#c.clock.now()
    this.#ticksDone = 0
    this.#scheduleTick()
    const voters = point.config.voters
    if (voters.length === 1 && voters[0] === this.id && !recovering) this.#core.campaign()
    this.#schedule()
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#tickTimer !== undefined) this.#c.clock.clearTimeout(this.#tickTimer)
    this.#tickTimer = undefined
    this.#unsubscribe?.()
    const stopped = new StoppedError('paxos node stopped')
    for (const pending of [...this.#queue, ...this.#awaitingLeader]) pending.fail(stopped)
    this.#queue = []
    this.#awaitingLeader = []
    for (const [, pending] of this.#pendingByIndex.entries()) pending.fail(stopped)
    this.#pendingByIndex.clear()
    for (const list of this.#forwarded.values()) for (const pending of list) pending.fail(stopped)
    this.#forwarded.clear()
    for (const read of this.#reads.values()) read.fail(stopped)
    this.#reads.clear()
    for (const resolve of this.#ackWaiters.values()) resolve(undefined)
    for (const waiter of this.#leaderWaiters) waiter(undefined)
    await this.#loopDone
    await this.#hintSaving
    await this.#applyChain.catch(() => {})
    await this.#incomingChain.catch(() => {})
    await this.#incoming?.writer.abort().catch(() => {})
    this.#incoming = undefined
    await this.#c.transport.stop()
    await this.#c.snapshots.stop()
    await this.#c.hardState.stop()
    await this.#c.log.stop()
  }

  #requireCore (): PaxosCore {
    if (!this.#started || this.#core === undefined) throw new NotStartedError('paxos node is not started')
    return this.#core
  }

  // ---------------------------------------------------------------- ticks

  #scheduleTick (): void {
    this.#tickTimer = this.#c.clock.setTimeout(() => { this.#onTick() }, this.#init.tickMs)
  }

  #onTick (): void {
    if (!this.#started || this.#core === undefined) return
    const due = Math.floor((this.#c.clock.now() - this.#startedAt) / this.#init.tickMs) - this.#ticksDone
    // Past two election timeouts every timer has fired anyway; the rest of a long stall is skipped.
    const run = Math.min(due, 2 * this.#init.electionTicks + 2)
    this.#ticksDone += Math.max(due, 0)
    for (let i = 0; i < run; i++) this.#core.tick()
    for (const pending of this.#deadlines.expire(this.#ticksDone)) {
      pending.fail(new TimeoutError('operation timed out', { indeterminate: true }))
    }
    this.#schedule()
    this.#scheduleTick()
  }

  #deadlineBucket (timeoutMs: number): number {
    return this.#ticksDone + Math.max(1, Math.ceil(timeoutMs / this.#init.tickMs))
  }

  // ---------------------------------------------------------------- the Ready loop

  #schedule (): void {
    if (this.#processScheduled || !this.#started) return
    this.#processScheduled = true
    queueMicrotask(this.#scheduled)
  }

  readonly #scheduled = (): void => {
    this.#processScheduled = false
    if (!this.#processing) this.#loopDone = this.#run()
    else if (this.#earlyAllowed) this.#sendEarly()
  }

  /**
   * While a Ready's writes are in flight, the leader's new accepts and newly chosen slots need not
   * wait for them (see `PaxosCore.takeEarly`): accepts reach the acceptors one write sooner, and
   * callers are answered as soon as their slots are chosen rather than after this replica's write.
   */
  #sendEarly (): void {
    const core = this.#core
    if (core === undefined || !this.#started) return
    try {
      const early = core.takeEarly()
      for (const m of early.messages) this.#send(m)
      if (early.committedEntries.length > 0) this.#enqueueApply(early.committedEntries)
    } catch (error) {
      // As a failure in the Ready loop: stop rather than go on from a state nothing vouches for.
      this.#logger?.error({ error }, 'paxos early send failed; stopping the node')
      void this.stop()
    }
  }

  async #run (): Promise<void> {
    this.#processing = true
    try {
      while (this.#started && this.#core?.hasReady() === true) {
        await this.#handleReady(this.#core, this.#core.ready())
      }
    } catch (error) {
      this.#logger?.error({ error }, 'paxos ready loop failed (a failed write sends nothing); stopping the node')
      void this.stop()
    } finally {
      this.#processing = false
    }
  }

  async #handleReady (core: PaxosCore, rd: PaxosReady): Promise<void> {
    for (const m of rd.earlyMessages) this.#send(m)
    if (rd.snapshot !== undefined) await this.#installSnapshotLog(rd.snapshot)
    // Chosen slots are durable on a phase-2 quorum (the leader counts its own vote only once
    // written, acceptors acknowledge only what they wrote), so applying them need not wait for
    // this Ready's writes, which hold newer slots: that keeps one fsync out of every answer under
    // steady load. A snapshot must be restored first, so with one they keep their place behind it.
    const applyEarly = rd.snapshot === undefined && rd.committedEntries.length > 0
    if (applyEarly) this.#enqueueApply(rd.committedEntries)
    const writes: Array<Promise<void>> = []
    if (rd.entries.length > 0) writes.push(this.#c.log.append(rd.entries))
    let promiseChanged = false
    if (rd.hardState !== undefined) {
      const previous = this.#savedPromise
      const changed = previous === undefined || previous.promised.round !== rd.hardState.promised.round || previous.promised.node !== rd.hardState.promised.node ||
        previous.recovering !== rd.hardState.recovering || previous.recoverUntil !== rd.hardState.recoverUntil
      // The promise must be durable before any reply that depends on it; the commit index is
      // only a restart hint, saved at most once per tick.
      if (changed) {
        promiseChanged = true
        // Slots first, then the promise (and the recovery flags that decide whether this replica votes).
        if (writes.length > 0) await writes.pop()
        // Saves stay in order whatever the store does with concurrent ones.
        if (this.#hintSaving !== undefined) await this.#hintSaving
        this.#lastCommitSave = this.#ticksDone
        this.#savedPromise = rd.hardState
        writes.push(this.#c.hardState.save(rd.hardState))
      } else if (this.#lastCommitSave !== this.#ticksDone && this.#hintSaving === undefined) {
        // Only the hint moved. No message depends on it, so the Ready does not wait for it (one
        // such save in flight at a time); it is capped below this Ready's slots so it never covers
        // values that are not yet durable (slots before them were made durable by earlier Readies).
        this.#lastCommitSave = this.#ticksDone
        const first = rd.entries[0]?.index
        const hint = first === undefined || rd.hardState.commit < first ? rd.hardState : { ...rd.hardState, commit: first - 1 }
        this.#savedPromise = hint
        this.#hintSaving = this.#c.hardState.save(hint).then(() => { this.#hintSaving = undefined }, (error: unknown) => {
          this.#hintSaving = undefined
          this.#logger?.error({ error }, 'saving the commit hint failed; stopping the node')
          void this.stop()
        })
      }
    }
    // Not while a new promise is being made durable (accepts may rely on it) or a snapshot installed.
    this.#earlyAllowed = rd.snapshot === undefined && !promiseChanged
    try {
      if (writes.length === 1) await writes[0]
      else if (writes.length > 1) await Promise.all(writes)
    } finally {
      this.#earlyAllowed = false
    }
    for (const m of rd.messages) this.#send(m)
    if (rd.softState !== undefined) this.#onSoftState(rd.softState.role, rd.softState.term, rd.softState.leader)
    for (const change of rd.configChanges) this.#updatePeers(change.config)
    if (rd.snapshot !== undefined) this.#enqueueRestore(rd.snapshot)
    if (!applyEarly && rd.committedEntries.length > 0) this.#enqueueApply(rd.committedEntries)
    for (const read of rd.readStates) {
      const waiter = this.#reads.get(read.context)
      if (waiter !== undefined) {
        this.#reads.delete(read.context)
        waiter.applied({ index: read.index, term: 0, type: 'noop', data: EMPTY }, undefined)
      }
    }
    for (const failed of rd.failedReads) {
      const waiter = this.#reads.get(failed.context)
      if (waiter !== undefined) waiter.fail(new NotLeaderError(`read not confirmed: ${failed.reason}`, { leaderHint: failed.leaderHint, term: core.status().term }))
    }
    for (const send of rd.snapshotSends) void this.#streamSnapshot(core, send)
    core.advance(rd)
  }

  #send (m: PaxosWireMessage): void {
    // A dropped message is retransmitted by the protocol (go-back-N on the next heartbeat).
    this.#c.transport.send(m.to, m)
  }

  #onSoftState (role: ReplicatedLogStatus['role'], term: number, leader: NodeId | undefined): void {
    this.safeDispatch('role', { role, term })
    this.safeDispatch('leader', { leader, term })
    for (const waiter of [...this.#leaderWaiters]) waiter(leader)
    if (leader !== undefined && this.#awaitingLeader.length > 0) {
      this.#queue.unshift(...this.#awaitingLeader.filter((pending) => !pending.settled))
      this.#awaitingLeader = []
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        queueMicrotask(() => { this.#flushProposals() })
      }
    }
  }

  #updatePeers (config: ClusterConfig): void {
    const transport = this.#c.transport
    const members = new Set([...config.voters, ...config.learners])
    for (const id of members) {
      const address = config.addresses[id]
      if (id !== this.id && address !== undefined) transport.addPeer(id, address)
    }
  }

  // ---------------------------------------------------------------- messages in

  #onMessage (_from: NodeId, message: unknown): void {
    const core = this.#core
    if (!this.#started || core === undefined || !isWireMessage(message) || message.to !== this.id) return
    switch (message.type) {
      case 'forward-propose': this.#onForwardPropose(core, message); break
      case 'forward-propose-result': this.#onForwardResult(message); break
      case 'snapshot-chunk':
        core.step(message)
        this.#incomingChain = this.#incomingChain.then(() => this.#onSnapshotChunk(core, message))
        break
      case 'snapshot-chunk-ack':
        this.#ackWaiters.get(`${message.from}:${message.snapshotIndex}`)?.(message)
        break
      default:
        core.step(message)
    }
    this.#schedule()
  }

  // ---------------------------------------------------------------- proposals

  // Not `async`: an async wrapper would cost a second promise per proposal on the hot path.
  propose (command: Uint8Array, options?: ProposeOptions): Promise<ProposeResult<Result>> {
    try {
      this.#requireCore()
      throwIfAborted(options?.signal)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    this.#proposals++
    this.#staged = command
    this.#stagedOptions = options
    return new Promise<ProposeResult<Result>>(this.#enqueueStaged)
  }

  // The executor is one function for the node's lifetime (it reads the staged arguments, which the
  // Promise constructor consumes synchronously), so a proposal allocates no closure of its own.
  #staged: Uint8Array = EMPTY
  #stagedOptions: ProposeOptions | undefined
  readonly #enqueueStaged = (resolve: (value: ProposeResult<Result>) => void, reject: (error: Error) => void): void => {
    const options = this.#stagedOptions
    this.#queue.push(this.#newPending('propose', this.#staged, options?.timeoutMs, options?.signal, resolve, reject))
    this.#staged = EMPTY
    this.#stagedOptions = undefined
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      queueMicrotask(this.#flush)
    }
  }

  readonly #flush = (): void => { this.#flushProposals() }

  #newPending<T> (kind: PendingOperation['kind'], data: Uint8Array, timeoutMs: number | undefined, signal: AbortSignal | undefined, resolve: (value: T) => void, reject: (error: Error) => void): PendingOperation {
    const bucket = this.#deadlineBucket(timeoutMs ?? this.#init.defaultTimeoutMs)
    // Latency is sampled (see PaxosMetrics.proposalLatencyMs): -1 marks an untimed operation.
    const startedAt = (this.#proposals & 7) === 0 ? this.#c.clock.now() : -1
    const pending = new PendingOperation(this, kind, data, startedAt, bucket, signal, resolve, reject)
    this.#deadlines.add(bucket, pending)
    return pending
  }

  forgetDeadline (bucket: number, pending: PendingOperation): void {
    this.#deadlines.delete(bucket, pending)
  }

  succeeded (startedAt: number): void {
    if (startedAt >= 0) this.#latency.record(this.#c.clock.now() - startedAt)
  }

  failed (): void {
    this.#proposalsFailed++
  }

  #flushProposals (): void {
    this.#flushScheduled = false
    const core = this.#core
    if (core === undefined || !this.#started) return
    const maxCount = this.#init.maxBatchCount
    const maxBytes = this.#init.maxBatchBytes
    while (this.#queue.length > 0) {
      const queue = this.#queue
      const commands: Uint8Array[] = []
      let bytes = 0
      let taken = 0
      let skipped = 0
      while (taken < queue.length && commands.length < maxCount) {
        const next = queue[taken]!
        const size = next.data.byteLength
        if (commands.length > 0 && bytes + size > maxBytes) break
        taken++
        if (next.settled) { skipped++; continue }
        commands.push(next.data)
        bytes += size
      }
      this.#queue = taken === queue.length ? [] : queue.slice(taken)
      if (commands.length === 0) continue
      // Usually the whole queue is one batch with nothing settled early: the queue is the batch.
      const batch = skipped === 0 && taken === queue.length ? queue : queue.slice(0, taken).filter((pending) => !pending.settled)
      const status = core.status()
      if (status.role === 'leader') {
        try {
          const position = core.proposeBatch(commands)
          // Slots above every tracked one cannot displace an older waiter (see #track).
          const fresh = position.index >= this.#pendingByIndex.end
          for (let i = 0; i < batch.length; i++) {
            const pending = batch[i]!
            pending.term = position.term
            if (fresh) this.#pendingByIndex.set(position.index + i, pending)
            else this.#track(position.index + i, pending)
          }
        } catch (error) {
          for (const pending of batch) pending.fail(error as Error)
        }
      } else if (this.#init.forwardProposals && status.leader !== undefined) {
        const requestId = this.#nextRequestId++
        this.#forwarded.set(requestId, batch)
        const message: ForwardPropose = { type: 'forward-propose', from: this.id, to: status.leader, session: this.#session, requestId, commands }
        if (!this.#c.transport.send(status.leader, message)) {
          this.#forwarded.delete(requestId)
          for (const pending of batch) pending.fail(new NotLeaderError('leader unreachable', { leaderHint: status.leader, term: status.term }))
        }
      } else if (this.#init.forwardProposals && status.role !== 'learner') {
        // No leader known (an election is running): hold the proposals until one is, or they time out.
        for (const pending of batch) this.#awaitingLeader.push(pending)
      } else {
        for (const pending of batch) pending.fail(new NotLeaderError('not the leader', { leaderHint: status.leader, term: status.term }))
      }
    }
    this.#schedule()
  }


  /** Waits for `index` to be applied. An older waiter for the same index lost its entry to a truncation, so its outcome is unknown. */
  #track (index: number, pending: PendingOperation): void {
    const previous = this.#pendingByIndex.get(index)
    if (previous !== undefined && previous !== pending) previous.fail(new TimeoutError('outcome unknown: the log was rewritten at this index', { indeterminate: true }))
    this.#pendingByIndex.set(index, pending)
  }

  #onForwardPropose (core: PaxosCore, m: ForwardPropose): void {
    const status = core.status()
    const key = `${m.from}:${m.session}:${m.requestId}`
    const reply = (fields: Pick<ForwardProposeResult, 'index' | 'round' | 'errorCode'>): void => {
      this.#c.transport.send(m.from, { type: 'forward-propose-result', from: this.id, to: m.from, requestId: m.requestId, leaderHint: status.leader ?? null, ...fields })
    }
    const answered = this.#forwardAnswers.get(key)
    if (answered !== undefined) {
      // The network duplicated the request: answer again, propose nothing.
      reply(answered)
      return
    }
    if (status.role !== 'leader') {
      reply({ index: -1, round: 0, errorCode: NotLeaderError.code })
      return
    }
    try {
      const position = core.proposeBatch(m.commands)
      const answer = { index: position.index, round: position.term, errorCode: '' }
      this.#forwardAnswers.set(key, answer)
      if (this.#forwardAnswers.size > 8192) this.#forwardAnswers.delete(this.#forwardAnswers.keys().next().value!)
      reply(answer)
    } catch (error) {
      reply({ index: -1, round: 0, errorCode: codeOf(error) })
    }
  }

  #onForwardResult (m: ForwardProposeResult): void {
    const list = this.#forwarded.get(m.requestId)
    if (list === undefined) return
    this.#forwarded.delete(m.requestId)
    if (m.index < 0) {
      for (const pending of list) pending.fail(errorFromCode(m.errorCode, m.leaderHint))
      return
    }
    list.forEach((pending, i) => {
      const index = m.index + i
      pending.term = m.round
      // The leader answers before it even sends the entries, so they cannot be applied here yet;
      // if they somehow were, the outcome is unknown to us.
      if (index <= this.#applied) pending.fail(new TimeoutError('outcome unknown', { indeterminate: true }))
      else this.#track(index, pending)
    })
  }

  // ---------------------------------------------------------------- apply

  #enqueueApply (entries: LogEntry[]): void {
    this.#applyChain = this.#applyChain.then(() => this.#applyEntries(entries)).catch((error: unknown) => {
      this.#logger?.error({ error }, 'applying committed entries failed')
    })
  }

  async #applyEntries (entries: LogEntry[]): Promise<void> {
    const sm = this.#c.stateMachine
    let configChanged = false
    for (const entry of entries) {
      if (entry.index <= this.#applied) continue
      let result: unknown
      if (entry.type === 'command') {
        this.#bytesSinceSnapshot += entry.data.byteLength
        if (entry.index > this.#skipCommandsUntil) {
          try {
            result = sm.apply(entry)
          } catch (error) {
            // A deterministic state machine throws on every replica alike; the proposer sees it.
            this.#logger?.warn({ error, index: entry.index }, 'state machine apply threw')
            result = error
          }
          this.#appliedEntries++
        }
      } else if (entry.type === 'config') {
        // It governs slots α later (the activation window); until then the old configuration rules.
        this.#pendingConfigs.push({ activation: entry.index + this.#init.activationWindow, config: decodeConfig(entry.data) })
      }
      while (this.#pendingConfigs.length > 0 && this.#pendingConfigs[0]!.activation <= entry.index + 1) {
        this.#appliedConfig = this.#pendingConfigs.shift()!.config
        configChanged = true
      }
      this.#applied = entry.index
      this.#appliedTerm = entry.term
      const pending = this.#pendingByIndex.size === 0 ? undefined : this.#pendingByIndex.take(entry.index)
      if (pending !== undefined) {
        // A slot holds our command if it holds our bytes: a value proposed at slot i is only ever
        // re-proposed at slot i (possibly at a higher ballot), so anything else there means ours was not chosen.
        if (entry.type === pending.kindOfEntry() && sameBytes(entry.data, pending.data)) {
          if (result instanceof Error && entry.type === 'command') pending.fail(result)
          else pending.applied(entry, result)
        } else {
          pending.fail(new ProposalDroppedError('the entry was replaced by a new leader'))
        }
      }
    }
    if (configChanged) {
      this.safeDispatch('membership', { config: this.#appliedConfig })
    }
    this.safeDispatch('applied', { index: this.#applied })
    this.#releaseAppliedWaiters()
    // Compaction policy: a snapshot every N entries or every N bytes of commands, whichever comes first.
    const every = this.#init.snapshotEveryEntries
    const everyBytes = this.#init.snapshotEveryBytes
    const dueByEntries = every > 0 && this.#applied - this.#lastSnapshotIndex >= every
    const dueByBytes = everyBytes > 0 && this.#bytesSinceSnapshot >= everyBytes
    if ((dueByEntries || dueByBytes) && !this.#snapshotting) {
      await this.#takeSnapshot().catch((error: unknown) => { this.#logger?.warn({ error }, 'automatic snapshot failed') })
    }
  }

  #releaseAppliedWaiters (): void {
    if (this.#appliedWaiters.length === 0) return
    const ready = this.#appliedWaiters.filter((w) => w.index <= this.#applied)
    if (ready.length === 0) return
    this.#appliedWaiters = this.#appliedWaiters.filter((w) => w.index > this.#applied)
    for (const waiter of ready) waiter.resolve()
  }

  async #waitApplied (index: number): Promise<void> {
    if (this.#applied >= index) return
    await new Promise<void>((resolve) => { this.#appliedWaiters.push({ index, resolve }) })
  }

  // ---------------------------------------------------------------- snapshots

  async #installSnapshotLog (meta: PaxosSnapshotPoint): Promise<void> {
    const log = this.#c.log
    // Slots past the snapshot stay: they are votes, and forgetting a vote is unsafe.
    await log.compactPrefix(meta.index, meta.term)
  }

  #enqueueRestore (point: PaxosSnapshotPoint): void {
    this.#applyChain = this.#applyChain.then(async () => {
      const sm = this.#c.stateMachine
      await sm.restore(this.#c.snapshots.read({ index: point.index }), { index: point.index, term: point.term })
      this.#applied = point.index
      this.#appliedTerm = point.term
      this.#appliedConfig = point.config
      this.#pendingConfigs = []
      this.#lastSnapshotIndex = point.index
      this.#bytesSinceSnapshot = 0
      this.#snapshotsInstalled++
      for (const [index, pending] of this.#pendingByIndex.entries()) {
        if (index <= point.index) {
          this.#pendingByIndex.take(index)
          pending.fail(new TimeoutError('outcome unknown: covered by an installed snapshot', { indeterminate: true }))
        }
      }
      const meta = await this.#c.snapshots.latest()
      if (meta !== undefined) this.safeDispatch('snapshot', { meta })
      this.safeDispatch('membership', { config: point.config })
      this.safeDispatch('applied', { index: this.#applied })
      this.#releaseAppliedWaiters()
    }).catch((error: unknown) => {
      // Continuing would apply entries on top of the wrong state: stop instead.
      this.#logger?.error({ error }, 'restoring a snapshot failed; stopping the node')
      void this.stop()
    })
  }

  async snapshot (options: AbortOptions = {}): Promise<SnapshotMeta> {
    this.#requireCore()
    throwIfAborted(options.signal)
    let out: SnapshotMeta | undefined
    this.#applyChain = this.#applyChain.then(async () => { out = await this.#takeSnapshot() })
    await this.#applyChain
    if (out === undefined) throw new StoppedError('snapshot not taken')
    return out
  }

  /** Runs on the apply chain, so the state machine is exactly at `#applied`. */
  async #takeSnapshot (): Promise<SnapshotMeta> {
    const { snapshots, stateMachine, log } = this.#c
    const core = this.#requireCore()
    if (this.#applied <= this.#lastSnapshotIndex) {
      const latest = await snapshots.latest()
      if (latest !== undefined) return latest
    }
    this.#snapshotting = true
    try {
      const config = core.snapshotConfig(this.#applied)
      if (config === undefined || this.#pendingConfigs.length > 0) {
        // A configuration change is waiting for its activation slot; snapshot once it is in force.
        const latest = await snapshots.latest()
        if (latest !== undefined) return latest
        throw new InvalidMembershipError('a membership change is pending activation')
      }
      const point = { index: this.#applied, term: this.#appliedTerm, config }
      let writer = await snapshots.begin(point)
      if (writer.offset > 0) {
        await writer.abort()
        writer = await snapshots.begin(point)
      }
      try {
        for await (const chunk of stateMachine.snapshot()) await writer.write(chunk)
      } catch (error) {
        await writer.abort()
        throw error
      }
      const meta = await writer.commit()
      core.snapshotTaken(point)
      this.#lastSnapshotIndex = point.index
      this.#bytesSinceSnapshot = 0
      this.#snapshotsTaken++
      // Compaction only ever reaches behind the checkpoint just made durable.
      const compactTo = point.index - this.#init.compactionLagEntries
      if (compactTo >= log.firstIndex()) {
        const term = core.compact(compactTo)
        await log.compactPrefix(compactTo, term)
      }
      await snapshots.prune(2)
      this.safeDispatch('snapshot', { meta })
      return meta
    } finally {
      this.#snapshotting = false
    }
  }

  async #streamSnapshot (core: PaxosCore, send: SnapshotSend): Promise<void> {
    const key = `${send.to}:${send.meta.index}`
    if (this.#sending.has(key)) return
    this.#sending.add(key)
    let ok = false
    try {
      let offset = 0
      for (let attempt = 0; attempt < 16 && this.#started; attempt++) {
        // An empty first chunk asks the receiver where to resume (it may hold part of it already).
        let ack = await this.#sendChunk(send, offset, EMPTY, false)
        if (ack === undefined || ack.reject) break
        offset = ack.nextOffset
        let restarted = false
        for await (const chunk of this.#c.snapshots.read({ index: send.meta.index, offset, chunkSize: this.#init.snapshotChunkBytes })) {
          ack = await this.#sendChunk(send, offset, chunk, false)
          if (ack === undefined || ack.reject) return
          if (ack.nextOffset !== offset + chunk.byteLength) {
            offset = ack.nextOffset
            restarted = true
            break
          }
          offset = ack.nextOffset
        }
        if (restarted) continue
        ack = await this.#sendChunk(send, offset, EMPTY, true)
        ok = ack !== undefined && !ack.reject
        break
      }
    } catch (error) {
      this.#logger?.warn({ error, to: send.to }, 'snapshot transfer failed')
    } finally {
      this.#sending.delete(key)
      if (ok) this.#snapshotsSent++
      if (this.#started) {
        core.reportSnapshot(send.to, ok)
        this.#schedule()
      }
    }
  }

  async #sendChunk (send: SnapshotSend, offset: number, data: Uint8Array, done: boolean): Promise<SnapshotChunkAck | undefined> {
    const key = `${send.to}:${send.meta.index}`
    return await new Promise<SnapshotChunkAck | undefined>((resolve) => {
      const timer = this.#c.clock.setTimeout(() => { finish(undefined) }, this.#init.snapshotChunkTimeoutMs)
      const finish = (ack: SnapshotChunkAck | undefined): void => {
        this.#c.clock.clearTimeout(timer)
        if (this.#ackWaiters.get(key) === finish) this.#ackWaiters.delete(key)
        resolve(ack)
      }
      this.#ackWaiters.set(key, finish)
      const chunk: SnapshotChunk = { type: 'snapshot-chunk', from: this.id, to: send.to, ballot: send.ballot, meta: send.meta, offset, data, done }
      if (!this.#c.transport.send(send.to, chunk, { bulk: true })) finish(undefined)
    })
  }

  async #onSnapshotChunk (core: PaxosCore, m: SnapshotChunk): Promise<void> {
    const reply = (nextOffset: number, reject: boolean): void => {
      this.#c.transport.send(m.from, { type: 'snapshot-chunk-ack', from: this.id, to: m.from, ballot: core.status().promised, snapshotIndex: m.meta.index, nextOffset, reject }, { bulk: true })
    }
    if (!this.#started) return
    const status = core.status()
    if (m.meta.index <= status.commitIndex) {
      reply(0, true)
      return
    }
    try {
      let incoming = this.#incoming
      if (incoming === undefined || incoming.index !== m.meta.index || incoming.term !== m.meta.term) {
        await incoming?.writer.abort()
        this.#incoming = undefined
        const writer = await this.#c.snapshots.begin(m.meta)
        incoming = { index: m.meta.index, term: m.meta.term, writer, position: writer.offset }
        this.#incoming = incoming
      }
      if (m.offset !== incoming.position) {
        reply(incoming.position, false)
        return
      }
      if (m.data.byteLength > 0) {
        await incoming.writer.write(m.data)
        incoming.position += m.data.byteLength
      }
      if (m.done) {
        await incoming.writer.commit()
        this.#incoming = undefined
        core.snapshotReceived(m.from, { index: m.meta.index, term: m.meta.term, config: m.meta.config })
        this.#schedule()
      }
      reply(incoming.position, false)
    } catch (error) {
      this.#logger?.warn({ error }, 'receiving a snapshot failed')
      await this.#incoming?.writer.abort().catch(() => {})
      this.#incoming = undefined
      reply(0, true)
    }
  }

  // ---------------------------------------------------------------- reads, membership, transfer

  async readBarrier (options: ReadBarrierOptions = {}): Promise<ReadBarrier> {
    const core = this.#requireCore()
    throwIfAborted(options.signal)
    const lease = (options.mode ?? 'read-index') === 'lease'
    const status = core.status()
    if (status.role !== 'leader' && !this.#init.forwardProposals) {
      throw new NotLeaderError('not the leader', { leaderHint: status.leader, term: status.term })
    }
    const context = `${this.id}:${this.#nextReadId++}`
    const index = await new Promise<number>((resolve, reject) => {
      const pending = this.#newPending('index', EMPTY, options.timeoutMs, options.signal, resolve, (error) => {
        this.#reads.delete(context)
        reject(error)
      })
      this.#reads.set(context, pending)
      core.readIndex(context, { lease })
      this.#schedule()
    })
    await this.#waitApplied(index)
    return { index, term: core.status().term }
  }

  async changeMembership (change: MembershipChange, options: AbortOptions = {}): Promise<ClusterConfig> {
    const core = this.#requireCore()
    throwIfAborted(options.signal)
    const position = core.proposeMembership(change)
    this.#schedule()
    await new Promise<void>((resolve, reject) => {
      const pending = this.#newPending('void', encodeConfigBytes(core, position.index), undefined, options.signal, resolve, reject)
      pending.term = position.term
      this.#track(position.index, pending)
    })
    // Done once the change is in force: α slots later (the leader fills them with no-ops).
    await this.#waitApplied(position.index + this.#init.activationWindow - 1)
    return this.#appliedConfig
  }

  async transferLeadership (to?: NodeId, options: AbortOptions = {}): Promise<void> {
    const core = this.#requireCore()
    throwIfAborted(options.signal)
    const target = core.transferLeadership(to)
    this.#schedule()
    if (target === this.id) return
    const timeoutMs = 2 * this.#init.electionTicks * this.#init.tickMs
    await new Promise<void>((resolve, reject) => {
      const timer = this.#c.clock.setTimeout(() => { done(new TimeoutError('leadership transfer did not complete')) }, timeoutMs)
      const onAbort = (): void => { done(new AbortError()) }
      const waiter = (leader: NodeId | undefined): void => {
        if (leader === target) done()
        else if (!this.#started) done(new StoppedError())
      }
      const done = (error?: Error): void => {
        this.#c.clock.clearTimeout(timer)
        this.#leaderWaiters.delete(waiter)
        options.signal?.removeEventListener('abort', onAbort)
        if (error === undefined) resolve()
        else reject(error)
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.#leaderWaiters.add(waiter)
    })
  }

  // ---------------------------------------------------------------- status

  isLeader (): boolean {
    return this.#core?.status().role === 'leader'
  }

  status (): PaxosNodeStatus {
    const core = this.#core
    if (core === undefined) {
      return {
        id: this.id, role: 'follower', term: 0, leader: undefined, commitIndex: 0, appliedIndex: 0, firstIndex: 1, lastIndex: 0,
        config: { voters: [], learners: [], addresses: {} }, ballot: { round: 0, node: '' }, promised: { round: 0, node: '' }, persistedIndex: 0, recovering: false, progress: {}, leaderChanges: 0
      }
    }
    const s = core.status()
    return {
      id: this.id,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commitIndex: s.commitIndex,
      appliedIndex: this.#applied,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      config: s.config,
      ballot: s.ballot,
      promised: s.promised,
      persistedIndex: s.persistedIndex,
      recovering: s.recovering,
      progress: s.progress,
      leaderChanges: s.leaderChanges
    }
  }

  metrics (): PaxosMetrics {
    return {
      proposals: this.#proposals,
      proposalsFailed: this.#proposalsFailed,
      appliedEntries: this.#appliedEntries,
      leaderChanges: this.#core?.status().leaderChanges ?? 0,
      snapshotsTaken: this.#snapshotsTaken,
      snapshotsSent: this.#snapshotsSent,
      snapshotsInstalled: this.#snapshotsInstalled,
      proposalLatencyMs: { p50: this.#latency.percentile(50), p99: this.#latency.percentile(99) }
    }
  }
}
