import {
  AbortError, InvalidArgumentError, NotLeaderError, NotStartedError, OverloadedError, ProposalDroppedError,
  StoppedError, SynodError, TimeoutError, TypedEventEmitter, throwIfAborted
} from '@synod/interfaces'
import type {
  AbortOptions, ClusterConfig, HardState, LogEntry, Logger, MembershipChange, NodeId, ProposeOptions, ProposeResult, Random, ReadBarrier,
  ReadBarrierOptions, ReplicatedLog, ReplicatedLogEvents, ReplicatedLogStatus, SnapshotMeta, TimerHandle
} from '@synod/interfaces'
import { createRaftCore, decodeConfig, isJoint } from '../core/index.js'
import type { CoreSnapshotPoint, PeerStatus, RaftCore, Ready, SnapshotSend } from '../core/index.js'
import { DeadlineWheel, IndexWindow, LatencyWindow } from './metrics.js'
import { PendingOperation } from './pending.js'
import type { PendingHost } from './pending.js'
import { resolveNodeInit } from './options.js'
import type { RaftNodeComponents, RaftNodeInit, ResolvedNodeInit } from './options.js'
import { ForwardDedup } from './forward-dedup.js'
import { SnapshotTransfer } from './snapshot-transfer.js'
import { isWireMessage } from './wire.js'
import type { ForwardPropose, ForwardProposeResult, RaftWireMessage } from './wire.js'

/** Status of a Raft node: the ReplicatedLog status plus Raft's own details. */
export interface RaftNodeStatus extends ReplicatedLogStatus {
  vote: NodeId | null
  persistedIndex: number
  /** Per-peer replication progress (only on the leader). */
  progress: Record<NodeId, PeerStatus>
  leadTransferee: NodeId | undefined
  leaderChanges: number
}

/** Counters and latency figures for dashboards. */
export interface RaftMetrics {
  proposals: number
  proposalsFailed: number
  appliedEntries: number
  leaderChanges: number
  snapshotsTaken: number
  snapshotsSent: number
  snapshotsInstalled: number
  /**
   * Proposal latency (call to committed-and-applied) over the most recent proposals, in ms. One
   * proposal in eight is timed, so the hot path reads the clock once per eight proposals, not twice per one.
   */
  proposalLatencyMs: { p50: number | undefined, p99: number | undefined }
}

/** A Raft node: the `ReplicatedLog` contract plus Raft status and metrics. */
export interface RaftNode<Result = unknown> extends ReplicatedLog<Result> {
  status(): RaftNodeStatus
  metrics(): RaftMetrics
}

/**
 * Creates a Raft node that drives a core with real storage, transport and clock.
 *
 * Each Ready is handled as: send the leader's appends at once (dissertation §10.2.1), hand
 * committed entries to the apply queue (they are durable already; it runs off the replication
 * path), write the snapshot, entries and hard state durably, send the other messages, then advance
 * the core. Readies overlap: the next is taken while earlier ones still write (see `#pump`).
 */
export function createRaftNode<Result = unknown> (init: RaftNodeInit, components: RaftNodeComponents<Result>): RaftNode<Result> {
  return new RaftNodeImpl<Result>(resolveNodeInit(init), components)
}


const EMPTY = new Uint8Array(0)
/** Readies taken while earlier ones are still writing, at most (see #pump). */
const MAX_READIES_IN_FLIGHT = 8

function cryptoRandom (): Random {
  const next = (): number => {
    const buffer = new Uint32Array(1)
    globalThis.crypto.getRandomValues(buffer)
    return (buffer[0] ?? 0) / 4294967296
  }
  return { next, int: (max) => Math.floor(next() * max) }
}

function errorFromCode (code: string, leaderHint: NodeId | null, term: number): Error {
  switch (code) {
    case NotLeaderError.code: return new NotLeaderError('not the leader', { leaderHint: leaderHint ?? undefined, term })
    case OverloadedError.code: return new OverloadedError()
    case ProposalDroppedError.code: return new ProposalDroppedError()
    default: return new SynodError(`forwarded proposal failed: ${code}`, code)
  }
}

function codeOf (error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'ERR_SYNOD'
}

class RaftNodeImpl<Result> extends TypedEventEmitter<ReplicatedLogEvents> implements RaftNode<Result>, PendingHost {
  readonly id: NodeId
  readonly #init: ResolvedNodeInit
  readonly #c: RaftNodeComponents<Result>
  readonly #logger: Logger | undefined
  #core: RaftCore | undefined
  #started = false
  #unsubscribe: (() => void) | undefined
  // Readies (see #pump): several may be in flight, finishing strictly in the order they were taken.
  #pumpScheduled = false
  /** Settles once every Ready taken so far has finished (writes durable, messages sent, advanced). */
  #tail: Promise<void> = Promise.resolve()
  /** Readies taken and not finished yet. */
  #inFlight = 0
  /** A Ready that must run alone (see #mustRunAlone) is waiting or running: take no other. */
  #alone = false
  /** A write failed: no Ready taken before or after it may finish (its acknowledgements would lie). */
  #writeFailed = false
  /** Entries handed to the log by Readies still in flight, by index (their writes may be unfinished). */
  readonly #unsynced = new Map<number, LogEntry>()
  // Ticks, computed from the clock so a stalled event loop never shortens the lease (see README).
  #tickTimer: TimerHandle = undefined
  #startedAt = 0
  #ticksDone = 0
  /** Peers this node added to the transport because a configuration named them. */
  #configPeers = new Set<NodeId>()
  /** Peers that left the configuration, and the tick after which the transport forgets them. */
  #leaving = new Map<NodeId, number>()
  #lastCommitSave = -1
  #savedHard: { term: number, vote: NodeId | null } | undefined
  /** A background save of a commit-index-only hard state change, while one runs. */
  #hintSave: Promise<void> | undefined
  // Proposals.
  #queue: PendingOperation[] = []
  #awaitingLeader: PendingOperation[] = []
  #flushScheduled = false
  readonly #pendingByIndex = new IndexWindow<PendingOperation>()
  readonly #forwarded = new Map<number, PendingOperation[]>()
  #nextRequestId = 1
  #session = ''
  readonly #forwardDedup = new ForwardDedup()
  readonly #deadlines = new DeadlineWheel<PendingOperation>((pending) => !pending.settled)
  // Reads and waiters.
  readonly #reads = new Map<string, PendingOperation>()
  #nextReadId = 1
  #appliedWaiters: Array<{ index: number, resolve: () => void, reject: (error: Error) => void }> = []
  readonly #leaderWaiters = new Set<(leader: NodeId | undefined) => void>()
  readonly #jointWaiters = new Set<() => void>()
  // Apply state (the state machine's view).
  #applyChain: Promise<void> = Promise.resolve()
  #applied = 0
  #appliedTerm = 0
  #appliedConfig: ClusterConfig = { voters: [], learners: [], addresses: {} }
  #skipCommandsUntil = 0
  #lastSnapshotIndex = 0
  #bytesSinceSnapshot = 0
  #snapshotting = false
  // Snapshot transfer.
  #transfer!: SnapshotTransfer
  // Metrics.
  readonly #latency = new LatencyWindow()
  #proposals = 0
  #proposalsFailed = 0
  #appliedEntries = 0
  #snapshotsTaken = 0
  #snapshotsSent = 0
  #snapshotsInstalled = 0

  constructor (init: ResolvedNodeInit, components: RaftNodeComponents<Result>) {
    super()
    this.id = init.id
    this.#init = init
    this.#c = components
    this.#logger = components.logger?.child({ component: 'raft', node: init.id })
  }

  // ---------------------------------------------------------------- lifecycle

  async start (): Promise<void> {
    if (this.#started) return
    const { transport, log, hardState, snapshots, stateMachine } = this.#c
    await log.start()
    await hardState.start()
    await snapshots.start()
    const hard = await hardState.load()
    let latest = await snapshots.latest()
    if (latest === undefined && hard === undefined && log.lastIndex() === 0 && this.#init.bootstrap !== undefined) {
      // The bootstrap configuration is stored as an empty snapshot at index 0, so a restart
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
      const termThere = log.term(latest.index)
      if (log.lastIndex() < latest.index || termThere !== latest.term) {
        // Crashed between installing a snapshot and rewriting the log: finish the rewrite.
        await log.compactPrefix(latest.index, latest.term)
        if (log.lastIndex() > latest.index && termThere !== latest.term) await log.truncateSuffix(latest.index + 1)
      }
    }
    const point: CoreSnapshotPoint = latest !== undefined
      ? { index: latest.index, term: latest.term, config: latest.config }
      : { index: 0, term: 0, config: this.#init.bootstrap ?? { voters: [], learners: [], addresses: {} } }
    const random = this.#c.random ?? cryptoRandom()
    this.#session = `${random.int(0x7fffffff).toString(36)}${random.int(0x7fffffff).toString(36)}`
    this.#core = createRaftCore({
      ...this.#init,
      id: this.id,
      storage: log,
      random,
      hardState: hard,
      snapshot: point
    })
    this.#applied = point.index
    this.#appliedTerm = point.term
    this.#appliedConfig = point.config
    this.#lastSnapshotIndex = point.index
    this.#skipCommandsUntil = smApplied
    this.#ticksDone = 0
    this.#leaving.clear()
    this.#updatePeers(point.config)
    const core = this.#core
    this.#transfer = new SnapshotTransfer({
      id: this.id,
      transport,
      snapshots,
      clock: this.#c.clock,
      logger: this.#logger,
      chunkBytes: this.#init.snapshotChunkBytes,
      chunkTimeoutMs: this.#init.snapshotChunkTimeoutMs,
      position: () => {
        const status = core.status()
        return { term: status.term, commitIndex: status.commitIndex }
      },
      received: (from, received) => {
        core.snapshotReceived(from, received)
        this.#schedule()
      }
    })
    this.#tail = Promise.resolve()
    this.#inFlight = 0
    this.#alone = false
    this.#writeFailed = false
    this.#unsynced.clear()
    this.#unsubscribe = transport.onMessage((from, message) => { this.#onMessage(from, message) })
    await transport.start()
    this.#started = true
    this.#startedAt = this.#c.clock.now()
    this.#ticksDone = 0
    this.#scheduleTick()
    const voters = point.config.voters
    if (voters.length === 1 && voters[0] === this.id) this.#core.campaign()
    this.#schedule()
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#tickTimer !== undefined) this.#c.clock.clearTimeout(this.#tickTimer)
    this.#tickTimer = undefined
    this.#unsubscribe?.()
    const stopped = new StoppedError('raft node stopped')
    for (const pending of [...this.#queue, ...this.#awaitingLeader]) pending.fail(stopped)
    this.#queue = []
    this.#awaitingLeader = []
    for (const [, pending] of this.#pendingByIndex.entries()) pending.fail(stopped)
    this.#pendingByIndex.clear()
    for (const list of this.#forwarded.values()) for (const pending of list) pending.fail(stopped)
    this.#forwarded.clear()
    for (const read of this.#reads.values()) read.fail(stopped)
    this.#reads.clear()
    for (const waiter of this.#leaderWaiters) waiter(undefined)
    // A read confirmed but not yet applied here never will be once stopped (a replica removed from
    // its group, say): end its wait rather than leave it hanging.
    for (const waiter of this.#appliedWaiters) waiter.reject(stopped)
    this.#appliedWaiters = []
    await this.#tail
    await this.#hintSave
    await this.#applyChain.catch(() => {})
    await this.#transfer.close()
    await this.#c.transport.stop()
    await this.#c.snapshots.stop()
    await this.#c.hardState.stop()
    await this.#c.log.stop()
  }

  #requireCore (): RaftCore {
    if (!this.#started || this.#core === undefined) throw new NotStartedError('raft node is not started')
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
    for (const [id, due] of this.#leaving) {
      if (due > this.#ticksDone) continue
      this.#leaving.delete(id)
      this.#c.transport.removePeer(id)
    }
    this.#schedule()
    this.#scheduleTick()
  }

  #deadlineBucket (timeoutMs: number): number {
    return this.#ticksDone + Math.max(1, Math.ceil(timeoutMs / this.#init.tickMs))
  }

  // ---------------------------------------------------------------- the Ready loop

  #schedule (): void {
    if (this.#pumpScheduled || !this.#started) return
    this.#pumpScheduled = true
    queueMicrotask(this.#pumpTask)
  }

  readonly #pumpTask = (): void => {
    this.#pumpScheduled = false
    this.#pump()
  }

  /**
   * Takes the next Ready, if the core has one. Readies are pipelined: one may be taken while the
   * writes of earlier ones are still in flight, so entries committed meanwhile (a follower's
   * acknowledgement arriving during the leader's next fsync) are applied at once instead of after
   * that fsync, and new entries go out to followers at once. Each Ready still finishes (messages
   * that promise durability sent, core advanced) only after its own writes and every earlier
   * Ready's have finished, in the order taken, which is what the core expects.
   *
   * One Ready per call: every call follows an event (a message, a proposal, a tick, a finished
   * Ready), and while writes are in flight the core reports a Ready for their unpersisted entries
   * alone, so taking Readies until it has none would spin.
   */
  #pump (): void {
    const core = this.#core
    if (!this.#started || core === undefined || this.#alone || this.#writeFailed) return
    if (this.#inFlight >= MAX_READIES_IN_FLIGHT || !core.hasReady()) return
    const rd = core.ready()
    this.#inFlight++
    if (this.#mustRunAlone(rd)) {
      // Snapshots, term and vote changes, role and configuration changes: after everything in
      // flight, and nothing taken until done (the steps as they were before pipelining).
      this.#alone = true
      this.#tail = this.#tail.then(async () => {
        if (this.#writeFailed) return
        await this.#handleReady(core, rd)
        this.#alone = false
        this.#finished()
      }).catch(this.#onWriteFailed)
      return
    }
    for (const m of rd.earlyMessages) this.#send(m)
    // Committed entries are durable already (the core hands out none above its persisted index).
    if (rd.committedEntries.length > 0) this.#enqueueApply(rd.committedEntries)
    const writes: Array<Promise<void>> = []
    const fresh = this.#freshEntries(rd.entries)
    if (fresh.length > 0) {
      writes.push(this.#c.log.append(fresh))
      for (const entry of fresh) this.#unsynced.set(entry.index, entry)
    }
    // A commit-index-only change here (term and vote changes run alone): saved in the background.
    if (rd.hardState !== undefined) this.#saveHardState(rd.hardState, writes)
    const previous = this.#tail
    const done = writes.length === 0 ? previous : Promise.all([previous, ...writes])
    this.#tail = done.then(() => {
      if (this.#writeFailed) return
      for (const entry of fresh) if (this.#unsynced.get(entry.index) === entry) this.#unsynced.delete(entry.index)
      this.#afterWrites(core, rd)
      this.#finished()
    }).catch(this.#onWriteFailed)
  }

  #finished (): void {
    this.#inFlight--
    this.#pump()
  }

  readonly #onWriteFailed = (error: unknown): void => {
    this.#writeFailed = true
    this.#logger?.error({ error }, 'raft ready loop failed; stopping the node')
    void this.stop()
  }

  /** Readies that must not overlap with others. */
  #mustRunAlone (rd: Ready): boolean {
    if (rd.snapshot !== undefined || rd.softState !== undefined || rd.configChanges.length > 0 || rd.snapshotSends.length > 0) return true
    const hard = rd.hardState
    const saved = this.#savedHard
    return hard !== undefined && (saved === undefined || saved.term !== hard.term || saved.vote !== hard.vote)
  }

  /**
   * The part of `entries` still to be written: the core lists every unpersisted entry, including
   * those earlier Readies are writing or have just written. An entry is known when an earlier
   * Ready queued it or the log holds it, with the same term (Log Matching: same index and term,
   * same entry). From the first unknown entry on, everything is written, replacing any conflicting
   * suffix queued before.
   */
  #freshEntries (entries: LogEntry[]): LogEntry[] {
    const log = this.#c.log
    let known = 0
    while (known < entries.length) {
      const entry = entries[known] as LogEntry
      const queued = this.#unsynced.get(entry.index)
      if (queued !== undefined ? queued.term !== entry.term : log.term(entry.index) !== entry.term) break
      known++
    }
    if (known === entries.length) return []
    const first = (entries[known] as LogEntry).index
    if (this.#unsynced.size > 0) for (const index of [...this.#unsynced.keys()]) if (index >= first) this.#unsynced.delete(index)
    return known === 0 ? entries : entries.slice(known)
  }

  /** Handles one Ready with nothing else in flight, waiting for its writes (see #pump). */
  async #handleReady (core: RaftCore, rd: Ready): Promise<void> {
    for (const m of rd.earlyMessages) this.#send(m)
    if (rd.snapshot !== undefined) await this.#installSnapshotLog(rd.snapshot)
    // Committed entries are already durable here (the core hands out none above its persisted
    // index), so they need not wait for this Ready's writes: applying them now keeps one fsync
    // out of every answer under steady load. A snapshot must be restored first, so with one the
    // entries keep their place behind it.
    const applyEarly = rd.snapshot === undefined && rd.committedEntries.length > 0
    if (applyEarly) this.#enqueueApply(rd.committedEntries)
    const writes: Array<Promise<void>> = []
    const fresh = this.#freshEntries(rd.entries)
    if (fresh.length > 0) writes.push(this.#c.log.append(fresh))
    if (rd.hardState !== undefined) this.#saveHardState(rd.hardState, writes)
    if (writes.length > 0) await Promise.all(writes)
    this.#afterWrites(core, rd)
  }

  /** What a Ready does once its writes are durable: the rest of etcd's steps, then advance. */
  #afterWrites (core: RaftCore, rd: Ready): void {
    for (const m of rd.messages) this.#send(m)
    if (rd.softState !== undefined) this.#onSoftState(rd.softState.role, rd.softState.term, rd.softState.leader)
    for (const change of rd.configChanges) this.#updatePeers(change.config)
    if (rd.snapshot !== undefined) {
      this.#enqueueRestore(rd.snapshot)
      if (rd.committedEntries.length > 0) this.#enqueueApply(rd.committedEntries)
    }
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
    for (const fetch of rd.fetches) {
      this.#c.log.entries(fetch.from, fetch.to, { maxBytes: fetch.maxBytes }).then(
        (entries) => { core.entriesFetched(fetch.id, entries); this.#schedule() },
        (error: unknown) => { core.fetchFailed(fetch.id, error); this.#schedule() }
      )
    }
    for (const send of rd.snapshotSends) void this.#streamSnapshot(core, send)
    core.advance(rd)
  }

  /**
   * Term and vote must be durable before any message that depends on them, so their saves join
   * the Ready's awaited writes. A change of the commit index alone is only a restart hint: it is
   * saved at most once per tick, in the background, one at a time, and a term or vote save waits
   * for it so an older hint can never land after a newer vote.
   */
  #saveHardState (hard: HardState, writes: Array<Promise<void>>): void {
    const previous = this.#savedHard
    const termOrVote = previous === undefined || previous.term !== hard.term || previous.vote !== hard.vote
    if (termOrVote) {
      this.#lastCommitSave = this.#ticksDone
      this.#savedHard = hard
      const hint = this.#hintSave
      writes.push(hint === undefined ? this.#c.hardState.save(hard) : hint.then(() => this.#c.hardState.save(hard)))
      return
    }
    if (this.#lastCommitSave === this.#ticksDone || this.#hintSave !== undefined) return
    this.#lastCommitSave = this.#ticksDone
    this.#hintSave = this.#c.hardState.save(hard).then(
      () => { this.#hintSave = undefined },
      (error: unknown) => {
        this.#hintSave = undefined
        this.#logger?.error({ error }, 'saving the hard state failed; stopping the node')
        void this.stop()
      }
    )
  }

  #send (m: RaftWireMessage): void {
    const ok = this.#c.transport.send(m.to, m)
    if (!ok && m.type === 'append') this.#core?.reportUnreachable(m.to)
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

  /**
   * Keeps the transport's peers in step with the configuration. A configuration takes effect here
   * once committed (its entry is handed out for applying), so a member that left is no longer
   * needed by any quorum. It is forgotten one election timeout later, not at once: the messages of
   * the Ready that committed its removal are still queued for it (the append carrying the new
   * commit index tells it that it was removed, dissertation §4.2.2), and removing a peer drops its
   * queue. Only peers a configuration named are removed; addresses the application gave the
   * transport itself (a joining node's contacts) are left alone.
   */
  #updatePeers (config: ClusterConfig): void {
    const transport = this.#c.transport
    const members = new Set([...config.voters, ...config.learners, ...(config.outgoingVoters ?? [])])
    for (const id of members) {
      const address = config.addresses[id]
      if (id === this.id || address === undefined) continue
      transport.addPeer(id, address)
      this.#configPeers.add(id)
      this.#leaving.delete(id)
    }
    for (const id of this.#configPeers) {
      if (members.has(id)) continue
      this.#configPeers.delete(id)
      this.#leaving.set(id, this.#ticksDone + this.#init.electionTicks)
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
        this.#transfer.receive(message)
        break
      case 'snapshot-chunk-ack':
        this.#transfer.acknowledged(message)
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
    // Latency is sampled (see RaftMetrics.proposalLatencyMs): -1 marks an untimed operation.
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
        const next = queue[taken] as PendingOperation
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
          // Indexes above every tracked one cannot displace an older waiter (see #track).
          const fresh = position.index >= this.#pendingByIndex.end
          for (let i = 0; i < batch.length; i++) {
            const pending = batch[i] as PendingOperation
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
        const message: ForwardPropose = { type: 'forward-propose', from: this.id, to: status.leader, term: status.term, session: this.#session, requestId, commands }
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

  #onForwardPropose (core: RaftCore, m: ForwardPropose): void {
    // A request the network duplicated must not be appended twice: answer it as before.
    const earlier = this.#forwardDedup.lookup(m.from, m.session, m.requestId)
    if (earlier !== 'new') {
      if (earlier !== undefined) this.#c.transport.send(m.from, earlier)
      return
    }
    const status = core.status()
    const reply = (fields: Pick<ForwardProposeResult, 'index' | 'entryTerm' | 'errorCode'>): void => {
      const result: ForwardProposeResult = { type: 'forward-propose-result', from: this.id, to: m.from, term: status.term, requestId: m.requestId, leaderHint: status.leader ?? null, ...fields }
      this.#forwardDedup.record(m.from, m.session, m.requestId, result)
      this.#c.transport.send(m.from, result)
    }
    if (status.role !== 'leader') {
      reply({ index: -1, entryTerm: 0, errorCode: NotLeaderError.code })
      return
    }
    try {
      const position = core.proposeBatch(m.commands)
      reply({ index: position.index, entryTerm: position.term, errorCode: '' })
      // The forwarding follower answers its callers once it applies these entries: with lazy
      // commit propagation it must hear of their commit without waiting for a heartbeat.
      core.notifyCommit(m.from, position.index + m.commands.length - 1)
    } catch (error) {
      reply({ index: -1, entryTerm: 0, errorCode: codeOf(error) })
    }
  }

  #onForwardResult (m: ForwardProposeResult): void {
    const list = this.#forwarded.get(m.requestId)
    if (list === undefined) return
    this.#forwarded.delete(m.requestId)
    if (m.index < 0) {
      for (const pending of list) pending.fail(errorFromCode(m.errorCode, m.leaderHint, m.term))
      return
    }
    list.forEach((pending, i) => {
      const index = m.index + i
      pending.term = m.entryTerm
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
        this.#appliedConfig = decodeConfig(entry.data)
        configChanged = true
      }
      this.#applied = entry.index
      this.#appliedTerm = entry.term
      const pending = this.#pendingByIndex.size === 0 ? undefined : this.#pendingByIndex.take(entry.index)
      if (pending !== undefined) {
        // Log Matching: same index and term means it is our entry; otherwise a new leader replaced it.
        if (pending.term === entry.term) {
          if (result instanceof Error && entry.type === 'command') pending.fail(result)
          else pending.applied(entry, result)
        } else {
          pending.fail(new ProposalDroppedError('the entry was replaced by a new leader'))
        }
      }
    }
    if (configChanged) {
      this.safeDispatch('membership', { config: this.#appliedConfig })
      if (!isJoint(this.#appliedConfig)) for (const waiter of [...this.#jointWaiters]) waiter()
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
    await new Promise<void>((resolve, reject) => { this.#appliedWaiters.push({ index, resolve, reject }) })
  }

  // ---------------------------------------------------------------- snapshots

  async #installSnapshotLog (meta: CoreSnapshotPoint): Promise<void> {
    const log = this.#c.log
    const termThere = log.term(meta.index)
    await log.compactPrefix(meta.index, meta.term)
    if (log.lastIndex() > meta.index && termThere !== meta.term) await log.truncateSuffix(meta.index + 1)
  }

  #enqueueRestore (point: CoreSnapshotPoint): void {
    this.#applyChain = this.#applyChain.then(async () => {
      const sm = this.#c.stateMachine
      await sm.restore(this.#c.snapshots.read({ index: point.index }), { index: point.index, term: point.term })
      this.#applied = point.index
      this.#appliedTerm = point.term
      this.#appliedConfig = point.config
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
      const point = { index: this.#applied, term: this.#appliedTerm, config: this.#appliedConfig }
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

  async #streamSnapshot (core: RaftCore, send: SnapshotSend): Promise<void> {
    const ok = await this.#transfer.send(send)
    if (ok) this.#snapshotsSent++
    if (this.#started) {
      core.reportSnapshot(send.to, ok)
      this.#schedule()
    }
  }

  // ---------------------------------------------------------------- reads, membership, transfer

  async readBarrier (options: ReadBarrierOptions = {}): Promise<ReadBarrier> {
    const core = this.#requireCore()
    throwIfAborted(options.signal)
    const lease = (options.mode ?? 'read-index') === 'lease'
    if (lease && this.#init.checkQuorum === false) throw new InvalidArgumentError('lease reads require checkQuorum', { field: 'mode' })
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
      const pending = this.#newPending('void', EMPTY, undefined, options.signal, resolve, reject)
      pending.term = position.term
      this.#track(position.index, pending)
    })
    // A joint change is done once the leader has moved the cluster out of the joint phase.
    if (isJoint(this.#appliedConfig)) {
      await new Promise<void>((resolve) => {
        const waiter = (): void => { this.#jointWaiters.delete(waiter); resolve() }
        this.#jointWaiters.add(waiter)
      })
    }
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

  status (): RaftNodeStatus {
    const core = this.#core
    if (core === undefined) {
      return {
        id: this.id, role: 'follower', term: 0, leader: undefined, commitIndex: 0, appliedIndex: 0, firstIndex: 1, lastIndex: 0,
        config: { voters: [], learners: [], addresses: {} }, vote: null, persistedIndex: 0, progress: {}, leadTransferee: undefined, leaderChanges: 0
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
      vote: s.vote,
      persistedIndex: s.persistedIndex,
      progress: s.progress,
      leadTransferee: s.leadTransferee,
      leaderChanges: s.leaderChanges
    }
  }

  metrics (): RaftMetrics {
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
