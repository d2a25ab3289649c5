import { InvalidArgumentError, InvalidMembershipError, NotLeaderError, OverloadedError } from '@synod/interfaces'
import type { ClusterConfig, EntryType, LogEntry, MembershipChange, NodeId, Role } from '@synod/interfaces'
import { ZERO_BALLOT, appliedForm, ballotEnvelope, compareBallots, encodeRun, encodeSlot, maxBallot, sameBallot, storedAt, storedBallot, storedFromWire, storedValue } from './ballot.js'
import type { Ballot, StoredSlot } from './ballot.js'
import { resolvePaxosConfig } from './config.js'
import type { PaxosCoreConfig, PaxosSnapshotPoint, ResolvedPaxosConfig } from './config.js'
import { applyChange, decodeConfig, emptyConfig, encodeConfig, members } from './membership.js'
import type { Accept, Accepted, Heartbeat, HeartbeatReply, PaxosMessage, Prepare, PromiseReply, ReadReply, ReadRequest, WireAcceptedSlot, WireSlot } from './messages.js'
import { hasQuorum, quorumSizes } from './quorum.js'
import type { FailedRead, PaxosEarly, PaxosReady, ReadState, SnapshotSend, SoftState } from './ready.js'

/** Where a proposal landed: its first slot and the ballot round it was proposed at. */
export interface ProposalPosition {
  index: number
  term: number
}

export interface PaxosPeerStatus {
  next: number
  match: number
  voter: boolean
}

export interface PaxosCoreStatus {
  id: NodeId
  role: Role
  /** The round of the ballot this node acts under: its own while leading, else its promise's. */
  term: number
  ballot: Ballot
  promised: Ballot
  leader: NodeId | undefined
  commitIndex: number
  appliedIndex: number
  firstIndex: number
  lastIndex: number
  persistedIndex: number
  config: ClusterConfig
  recovering: boolean
  /** Per-peer replication progress (leader only). */
  progress: Record<NodeId, PaxosPeerStatus>
  leaderChanges: number
}

/**
 * The deterministic Multi-Paxos state machine. Nothing here does I/O or reads a clock: time moves
 * by `tick()`, messages arrive by `step()`, and everything the driver must do comes out of
 * `ready()` (persist, then send, then apply), acknowledged by `advance()`.
 */
export interface PaxosCore {
  tick(): void
  step(message: PaxosMessage): void
  /** Runs phase 1 now with a new ballot (elections call this on timeout). */
  campaign(): void
  /** Proposes commands at the next free slots (leader only; throws ERR_NOT_LEADER otherwise). */
  proposeBatch(commands: readonly Uint8Array[]): ProposalPosition
  propose(command: Uint8Array): ProposalPosition
  /** Proposes a membership change; it governs slots from its slot + the activation window on. */
  proposeMembership(change: MembershipChange): ProposalPosition
  /** Asks for a linearizable read point; the answer comes in `readStates` or `failedReads`. */
  readIndex(context: string, options?: { lease?: boolean }): void
  /** Hands leadership to `to` (or the most caught-up voter); returns the target. */
  transferLeadership(to?: NodeId): NodeId
  hasReady(): boolean
  ready(): PaxosReady
  /**
   * Takes what need not wait for the writes of a Ready already taken: the leader's accepts (it
   * counts its own vote only once durable, and sends none that rely on a promise not yet durable)
   * and newly chosen slots to apply (durable on a phase-2 quorum; none while a received snapshot
   * waits to be installed). The driver may call this between `ready()` and `advance()`, but not
   * while the Ready in flight persists a new promise or installs a snapshot. What it takes is not
   * in the next Ready.
   */
  takeEarly(): PaxosEarly
  advance(ready: PaxosReady): void
  /** A snapshot as of `point` is durable: slots up to it may now be compacted. */
  snapshotTaken(point: PaxosSnapshotPoint): void
  /**
   * Forgets slots up to `upTo` and returns the round of slot `upTo` (for `LogStorage.compactPrefix`).
   * Throws ERR_INVALID_ARGUMENT unless a durable checkpoint covers `upTo`.
   */
  compact(upTo: number): number
  /** The configuration to record in a snapshot taken at `index`, or undefined while a change is still pending activation there. */
  snapshotConfig(index: number): ClusterConfig | undefined
  /** A snapshot sent by `from` was installed durably here. */
  snapshotReceived(from: NodeId, point: PaxosSnapshotPoint): void
  /** The driver finished (or gave up) streaming a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void
  /** The value this leader holds or has queued for `slot`, if any. */
  proposedValue(slot: number): Uint8Array | undefined
  status(): PaxosCoreStatus
}

export function createPaxosCore (config: PaxosCoreConfig): PaxosCore {
  return new MultiPaxos(resolvePaxosConfig(config))
}

interface Peer {
  next: number
  match: number
  voter: boolean
  /** Highest heartbeat `sentTick` acknowledged at the current ballot (for the lease). */
  ackedTick: number
  readSeq: number
  active: boolean
  matchAtLastHeartbeat: number
  /** The peer answered since the last go-back-N check (it is processing what we send). */
  heard: boolean
  snapshotting: boolean
  /** The match a gap was last answered from, so a burst of gap replies triggers one resend. */
  gapResentAt: number
}

interface PendingRead {
  context: string
  seq: number
  index: number
  /** The follower that asked, or undefined for a local read. */
  from: NodeId | undefined
}

const NOOP = new Uint8Array(0)

class MultiPaxos implements PaxosCore {
  readonly #cfg: ResolvedPaxosConfig
  readonly #id: NodeId
  // Acceptor state (durable).
  #promised: Ballot
  #recovering: boolean
  #recoverUntil: number
  /** Accepted values for slots `#compacted + 1 ..`, in their stored form (see ballot.ts). */
  #slots: StoredSlot[] = []
  #compacted: number
  #checkpoint: PaxosSnapshotPoint
  // Learner state.
  #commit: number
  #applied: number
  /** Config slots above the compacted prefix, in slot order. */
  #configSlots: Array<{ slot: number, config: ClusterConfig }> = []
  /** The configuration in force right after the compacted prefix, and the slot it started at. */
  #baseConfig: ClusterConfig
  // The acceptor's run of values at `#runBallot` from its chosen prefix on (see Accepted.match).
  #runBallot: Ballot = ZERO_BALLOT
  #runEnd = 0
  // Roles and timers.
  #role: Role = 'follower'
  #leader: NodeId | undefined
  #ballot: Ballot = ZERO_BALLOT
  #maxSeen: Ballot = ZERO_BALLOT
  #tickCount = 0
  #electionElapsed = 0
  #heartbeatElapsed = 0
  #checkQuorumElapsed = 0
  #randomizedTimeout = 0
  #leaderChanges = 0
  // Candidate.
  #promises = new Map<NodeId, PromiseReply>()
  /** The ballot a pre-vote in progress asks about, and who answered that they hear no leader. */
  #preBallot: Ballot | undefined
  readonly #preGrants = new Set<NodeId>()
  #phase1From = 0
  // Leader.
  #peers = new Map<NodeId, Peer>()
  #queued: Array<{ type: EntryType, data: Uint8Array }> = []
  #selfMatch = 0
  #readyIndex = 0
  #readSeq = 0
  #pendingReads: PendingRead[] = []
  #readsAwaitingReady: PendingRead[] = []
  #remoteReads = new Map<string, NodeId>()
  #transferring = false
  #lastBatch: { from: number, to: number, ballot: Ballot, entries: WireSlot[] } | undefined
  // Ready bookkeeping.
  #dirtyFrom = Number.POSITIVE_INFINITY
  #hardDirty = false
  /** The promise changed since the last Ready: nothing that relies on it may leave early. */
  #promiseDirty = false
  #persisted: number
  #messages: PaxosMessage[] = []
  #early: PaxosMessage[] = []
  #readStates: ReadState[] = []
  #failedReads: FailedRead[] = []
  #snapshotSends: SnapshotSend[] = []
  #configChanges: Array<{ slot: number, config: ClusterConfig }> = []
  #snapshotToInstall: PaxosSnapshotPoint | undefined
  #lastSoft: SoftState
  /** The ballot each Ready was produced under while leading, so `advance` counts only our own values as our vote. */
  readonly #readyBallot = new WeakMap<PaxosReady, Ballot>()

  constructor (cfg: ResolvedPaxosConfig) {
    this.#cfg = cfg
    this.#id = cfg.id
    const snapshot = cfg.snapshot ?? { index: 0, term: 0, config: emptyConfig() }
    this.#checkpoint = snapshot
    this.#baseConfig = snapshot.config
    const hard = cfg.hardState
    this.#promised = hard?.promised ?? ZERO_BALLOT
    this.#maxSeen = this.#promised
    this.#recovering = hard?.recovering ?? cfg.recovering === true
    this.#recoverUntil = hard?.recoverUntil ?? 0
    if (this.#recovering && hard?.recovering !== true) this.#hardDirty = true
    const entries = cfg.entries ?? []
    this.#compacted = entries.length > 0 ? entries[0]!.index - 1 : snapshot.index
    if (this.#compacted > snapshot.index) throw new InvalidArgumentError('the log starts after the snapshot', { field: 'entries' })
    for (const entry of entries) {
      // Decoding checks every envelope: a truncated one means a corrupt log (the driver recovers).
      const value = storedValue(entry)
      storedBallot(entry)
      this.#slots.push(entry)
      if (entry.type === 'config') this.#configSlots.push({ slot: entry.index, config: decodeConfig(value) })
    }
    this.#persisted = this.#lastIndex()
    this.#commit = Math.max(snapshot.index, Math.min(hard?.commit ?? 0, this.#lastIndex()))
    this.#applied = snapshot.index
    // Config slots at or below the snapshot are already folded into its configuration.
    this.#configSlots = this.#configSlots.filter((c) => c.slot > snapshot.index)
    this.#runEnd = this.#commit
    this.#resetElectionTimeout()
    this.#lastSoft = this.#softState()
  }

  // ------------------------------------------------------------------ log helpers

  #lastIndex (): number {
    return this.#compacted + this.#slots.length
  }

  #slot (slot: number): StoredSlot | undefined {
    return slot > this.#compacted ? this.#slots[slot - this.#compacted - 1] : undefined
  }

  /** Holds `value` (a stored slot, `value.index === slot`) for `slot`. */
  #write (slot: number, value: StoredSlot): void {
    const offset = slot - this.#compacted - 1
    if (offset < 0) return
    if (offset > this.#slots.length) throw new RangeError(`slot ${slot} leaves a gap after ${this.#lastIndex()}`)
    const previous = this.#slots[offset]
    if (previous?.type === 'config' || value.type === 'config') {
      this.#configSlots = this.#configSlots.filter((c) => c.slot !== slot)
      if (value.type === 'config') {
        this.#configSlots.push({ slot, config: decodeConfig(storedValue(value)) })
        this.#configSlots.sort((a, b) => a.slot - b.slot)
      }
    }
    this.#slots[offset] = value
    if (slot < this.#dirtyFrom) this.#dirtyFrom = slot
  }

  /**
   * The configuration that decides slot `slot`: the newest chosen config slot at or below
   * `slot - α` (the activation window), else the snapshot's.
   */
  #configFor (slot: number): ClusterConfig {
    let config = this.#baseConfig
    const limit = Math.min(slot - this.#cfg.activationWindow, this.#commit)
    for (const c of this.#configSlots) {
      if (c.slot > limit) break
      config = c.config
    }
    return config
  }

  #currentConfig (): ClusterConfig {
    return this.#configFor(this.#commit + 1)
  }

  #quorums (config: ClusterConfig): { phase1: number, phase2: number } {
    return quorumSizes(config.voters.length, this.#cfg)
  }

  #isVoter (config = this.#currentConfig()): boolean {
    return config.voters.includes(this.#id)
  }

  // ------------------------------------------------------------------ time

  #resetElectionTimeout (): void {
    const t = this.#cfg.electionTicks
    this.#randomizedTimeout = t + this.#cfg.random.int(t)
  }

  tick (): void {
    this.#tickCount++
    if (this.#role === 'leader') {
      this.#heartbeatElapsed++
      this.#checkQuorumElapsed++
      if (this.#checkQuorumElapsed >= this.#cfg.electionTicks) {
        this.#checkQuorumElapsed = 0
        if (!this.#quorumActive()) {
          this.#becomeFollower(undefined)
          return
        }
      }
      if (this.#heartbeatElapsed >= this.#cfg.heartbeatTicks) {
        this.#heartbeatElapsed = 0
        this.#broadcastHeartbeat()
        this.#retransmit()
      }
      return
    }
    this.#electionElapsed++
    if (this.#electionElapsed >= this.#randomizedTimeout) {
      this.#electionElapsed = 0
      // A leader is presumed gone after a quiet election timeout (this also ends the stable-leader guard).
      if (this.#role !== 'candidate') this.#leader = undefined
      this.#resetElectionTimeout()
      if (!this.#recovering && this.#isVoter()) {
        if (this.#cfg.preVote) this.#startPreVote()
        else this.campaign()
      }
    }
  }

  /** Check-quorum: a phase-2 quorum answered at this ballot within the last election timeout. */
  #quorumActive (): boolean {
    const config = this.#currentConfig()
    const active = hasQuorum(config.voters, this.#quorums(config).phase2, (id) => id === this.#id || (this.#peers.get(id)?.active === true && this.#peers.get(id)?.voter === true))
    for (const peer of this.#peers.values()) peer.active = false
    return active
  }

  // ------------------------------------------------------------------ roles

  #becomeFollower (leader: NodeId | undefined): void {
    const wasLeader = this.#role === 'leader'
    this.#role = this.#isVoter() || !this.#currentConfig().learners.includes(this.#id) ? 'follower' : 'learner'
    this.#leader = leader
    this.#ballot = ZERO_BALLOT
    this.#promises.clear()
    this.#preBallot = undefined
    this.#electionElapsed = 0
    this.#resetElectionTimeout()
    if (wasLeader) {
      this.#peers.clear()
      this.#queued = []
      this.#transferring = false
      for (const read of [...this.#pendingReads, ...this.#readsAwaitingReady]) this.#failRead(read, 'not-leader')
      this.#pendingReads = []
      this.#readsAwaitingReady = []
    }
  }

  campaign (): void {
    this.#startPhase1(false)
  }

  /**
   * Pre-vote: asks the electorate whether they would promise a new proposer, changing nothing
   * (no promise, no ballot). Only a phase-1 quorum of yeses starts phase 1. Without it a replica
   * that stops hearing a live leader (cut off, a lossy link, a fast clock) promises itself a
   * higher ballot, rejects the leader's heartbeats once they reach it again, and the leader,
   * seeing a higher promise, steps down: one replica's trouble became a leader change.
   */
  #startPreVote (): void {
    if (this.#role === 'candidate') {
      // A phase 1 that went nowhere is abandoned; the next one needs a quorum's assent first.
      this.#role = 'follower'
      this.#ballot = ZERO_BALLOT
      this.#promises.clear()
    }
    const ballot: Ballot = { round: Math.max(this.#promised.round, this.#maxSeen.round) + 1, node: this.#id }
    this.#preBallot = ballot
    this.#preGrants.clear()
    this.#preGrants.add(this.#id)
    for (const id of this.#electorate()) {
      if (id !== this.#id) this.#send({ type: 'prepare', from: this.#id, to: id, ballot, fromSlot: this.#commit + 1, transfer: false, pre: true })
    }
    this.#checkPreVote()
  }

  #checkPreVote (): void {
    if (this.#preBallot === undefined) return
    for (const config of this.#phase1Configs(this.#commit + 1)) {
      if (!hasQuorum(config.voters, this.#quorums(config).phase1, (id) => this.#preGrants.has(id))) return
    }
    this.#startPhase1(false)
  }

  #startPhase1 (transfer: boolean): void {
    if (this.#recovering) return
    if (this.#role === 'leader') this.#becomeFollower(undefined)
    // Jump past every ballot seen so far (a rejection carries the promise that beat us).
    const round = Math.max(this.#promised.round, this.#maxSeen.round) + 1
    const ballot: Ballot = { round, node: this.#id }
    this.#preBallot = undefined
    this.#role = 'candidate'
    this.#leader = undefined
    this.#ballot = ballot
    this.#promised = ballot
    this.#maxSeen = ballot
    this.#hardDirty = true
    this.#promiseDirty = true
    this.#electionElapsed = 0
    this.#resetElectionTimeout()
    this.#promises.clear()
    this.#phase1From = this.#commit + 1
    // Our own promise counts once durable; the reply it stands for is synthesised here and any
    // action it enables leaves in a Ready that persists the promise first.
    this.#promises.set(this.#id, this.#promiseReply(this.#id, ballot, this.#phase1From, true))
    for (const id of this.#electorate()) {
      if (id !== this.#id) this.#send({ type: 'prepare', from: this.#id, to: id, ballot, fromSlot: this.#phase1From, transfer })
    }
    this.#checkPhase1()
  }

  /** Everyone who may have to promise: voters of the current config and of any known pending one. */
  #electorate (): NodeId[] {
    const ids = new Set(this.#currentConfig().voters)
    for (const c of this.#configSlots) if (c.slot + this.#cfg.activationWindow > this.#commit + 1) for (const id of c.config.voters) ids.add(id)
    return [...ids]
  }

  #promiseReply (to: NodeId, request: Ballot, fromSlot: number, ok: boolean): PromiseReply {
    const accepted: WireAcceptedSlot[] = []
    if (ok) {
      for (let slot = Math.max(fromSlot, this.#compacted + 1); slot <= this.#lastIndex(); slot++) {
        const value = this.#slot(slot)!
        accepted.push({ slot, ballot: storedBallot(value), type: value.type, data: storedValue(value) })
      }
    }
    return { type: 'promise', from: this.#id, to, ballot: this.#promised, request, ok, commit: this.#commit, compacted: this.#compacted, accepted }
  }

  /**
   * Phase 1 is complete once the promises form a phase-1 quorum of every configuration that may
   * govern an unchosen slot: the current one and any carried by a config slot still inside the
   * activation window (chosen or merely accepted somewhere: we cannot yet tell).
   */
  #checkPhase1 (): void {
    if (this.#role !== 'candidate') return
    const configs = this.#phase1Configs(this.#phase1From)
    for (const reply of this.#promises.values()) {
      for (const s of reply.accepted) if (s.type === 'config') configs.push(decodeConfig(s.data))
    }
    for (const config of configs) {
      if (!hasQuorum(config.voters, this.#quorums(config).phase1, (id) => this.#promises.has(id))) return
    }
    this.#becomeLeader()
  }

  /** The configurations that may govern a slot from `from` on: the one at `from` and any still inside the activation window. */
  #phase1Configs (from: number): ClusterConfig[] {
    const configs = [this.#configFor(from)]
    for (const c of this.#configSlots) if (c.slot > from - 1 - this.#cfg.activationWindow) configs.push(c.config)
    return configs
  }

  #becomeLeader (): void {
    const ballot = this.#ballot
    const from = this.#phase1From
    // Merge the promises: for every slot from `from` on, the value with the highest ballot.
    const best = new Map<number, WireAcceptedSlot>()
    let learnedCommit = this.#commit
    let maxSlot = this.#lastIndex()
    for (const reply of this.#promises.values()) {
      if (reply.compacted >= from) {
        // The acceptor compacted slots we have not learned: we cannot propose there blindly.
        // Stand down; catch-up (a snapshot from the leader that follows) comes first.
        this.#becomeFollower(undefined)
        return
      }
      for (const s of reply.accepted) {
        const known = best.get(s.slot)
        if (known === undefined || compareBallots(s.ballot, known.ballot) > 0) best.set(s.slot, s)
        if (s.slot > maxSlot) maxSlot = s.slot
      }
      const lastHeld = reply.accepted.length > 0 ? reply.accepted[reply.accepted.length - 1]!.slot : reply.compacted
      learnedCommit = Math.max(learnedCommit, Math.min(reply.commit, lastHeld))
    }
    this.#role = 'leader'
    this.#leader = this.#id
    this.#leaderChanges++
    this.#transferring = false
    // Slots the promises say are chosen keep their value and ballot; every other slot up to the
    // highest one reported is re-proposed at our ballot with the adopted value, or a no-op when
    // no promise holds one (Paxos Made Simple §3: gaps are filled with no-ops).
    for (let slot = from; slot <= maxSlot; slot++) {
      const found = best.get(slot)
      const own = this.#slot(slot)
      if (slot <= learnedCommit) {
        if (found !== undefined && (own === undefined || !storedAt(own, found.ballot, ballotEnvelope(found.ballot)))) this.#write(slot, encodeSlot(slot, found))
        continue
      }
      this.#write(slot, encodeSlot(slot, found !== undefined ? { ballot, type: found.type, data: found.data } : { ballot, type: 'noop', data: NOOP }))
    }
    this.#advanceCommit(learnedCommit)
    this.#peers.clear()
    this.#syncPeers()
    this.#promises.clear()
    this.#selfMatch = 0
    this.#heartbeatElapsed = 0
    this.#checkQuorumElapsed = 0
    // A no-op at our ballot: once it is chosen every earlier slot is, and reads may be served.
    this.#readyIndex = this.#lastIndex() + this.#queued.length + 1
    this.#queued.push({ type: 'noop', data: NOOP })
    this.#flushQueue()
    this.#broadcastAccepts(false)
    this.#broadcastHeartbeat()
  }

  /** Tracks every replica of the current and pending configurations; forgets the rest. */
  #syncPeers (): void {
    const replicas = new Set(this.#replicas())
    for (const id of replicas) {
      if (id === this.#id || this.#peers.has(id)) continue
      const reply = this.#promises.get(id)
      const next = reply !== undefined ? Math.min(reply.commit, this.#commit) + 1 : this.#commit + 1
      this.#peers.set(id, { next, match: 0, voter: true, ackedTick: -1, readSeq: 0, active: true, matchAtLastHeartbeat: -1, heard: false, snapshotting: false, gapResentAt: -1 })
    }
    for (const id of this.#peers.keys()) if (!replicas.has(id)) this.#peers.delete(id)
  }

  /** Every node the leader replicates to: voters and learners, current and pending. */
  #replicas (): NodeId[] {
    const ids = new Set(members(this.#currentConfig()))
    for (const c of this.#configSlots) if (c.slot + this.#cfg.activationWindow > this.#commit + 1) for (const id of members(c.config)) ids.add(id)
    return [...ids]
  }

  // ------------------------------------------------------------------ proposals

  propose (command: Uint8Array): ProposalPosition {
    return this.proposeBatch([command])
  }

  proposeBatch (commands: readonly Uint8Array[]): ProposalPosition {
    this.#checkCanPropose(commands.length)
    const index = this.#lastIndex() + this.#queued.length + 1
    // The usual case: nothing waits for the window, so the commands go straight into the log
    // (no queue entry per command); whatever the window does not admit yet waits in the queue.
    const taken = this.#queued.length === 0 ? this.#appendOwn(commands) : 0
    for (let i = taken; i < commands.length; i++) this.#queued.push({ type: 'command', data: commands[i]! })
    this.#broadcastAccepts(false)
    return { index, term: this.#ballot.round }
  }

  #checkCanPropose (count: number): void {
    if (this.#role !== 'leader') throw new NotLeaderError('not the leader', { leaderHint: this.#leader, term: this.#promised.round })
    if (this.#queued.length + count > this.#cfg.maxQueuedProposals) throw new OverloadedError('too many proposals waiting for the pipeline window')
  }

  #enqueue (values: Array<{ type: EntryType, data: Uint8Array }>): ProposalPosition {
    this.#checkCanPropose(values.length)
    const index = this.#lastIndex() + this.#queued.length + 1
    for (const value of values) this.#queued.push(value)
    this.#flushQueue()
    this.#broadcastAccepts(false)
    return { index, term: this.#ballot.round }
  }

  /**
   * Proposes commands at the next free slots, as many as the activation window admits (see
   * #flushQueue), and encodes them once: the same bytes are stored here and carried to every
   * acceptor. Returns how many were taken.
   */
  #appendOwn (commands: readonly Uint8Array[]): number {
    const first = this.#lastIndex() + 1
    const count = Math.min(commands.length, this.#commit + this.#cfg.activationWindow - this.#lastIndex())
    if (count <= 0) return 0
    encodeRun(first, this.#ballot, 'command', commands, count, this.#slots)
    if (first < this.#dirtyFrom) this.#dirtyFrom = first
    return count
  }

  proposeMembership (change: MembershipChange): ProposalPosition {
    if (this.#role !== 'leader') throw new NotLeaderError('not the leader', { leaderHint: this.#leader, term: this.#promised.round })
    const pending = this.#configSlots.some((c) => c.slot + this.#cfg.activationWindow > this.#commit + 1) ||
      this.#queued.some((q) => q.type === 'config')
    if (pending) throw new InvalidMembershipError('another membership change is pending activation')
    const next = applyChange(this.#currentConfig(), change)
    try {
      quorumSizes(next.voters.length, this.#cfg)
    } catch (error) {
      throw new InvalidMembershipError(`the new configuration breaks the quorum rule: ${(error as Error).message}`)
    }
    const position = this.#enqueue([{ type: 'config', data: encodeConfig(next) }])
    this.#syncPeers()
    this.#broadcastAccepts(false)
    return position
  }

  /**
   * Moves queued proposals into the log while they stay inside the activation window: slot i is
   * proposed only once every slot up to i - α is chosen, so its configuration is known.
   */
  #flushQueue (): void {
    if (this.#queued.length === 0) return
    const limit = this.#commit + this.#cfg.activationWindow
    const first = this.#lastIndex() + 1
    const taken = Math.min(this.#queued.length, limit - this.#lastIndex())
    if (taken <= 0) return
    const queued = this.#queued.slice(0, taken)
    const values = queued.map((q) => q.data)
    // Encoded once here: the same bytes are stored by the leader and carried to every acceptor.
    const entries = encodeRun(first, this.#ballot, queued.map((q) => q.type), values)
    for (const entry of entries) this.#write(entry.index, entry)
    this.#queued = taken === this.#queued.length ? [] : this.#queued.slice(taken)
  }

  #broadcastAccepts (allowEmpty: boolean): void {
    for (const [id, peer] of this.#peers) this.#sendAccepts(id, peer, allowEmpty)
  }

  #sendAccepts (id: NodeId, peer: Peer, allowEmpty: boolean): void {
    if (peer.snapshotting) return
    const last = this.#lastIndex()
    if (peer.next <= this.#compacted) {
      peer.snapshotting = true
      this.#snapshotSends.push({ to: id, ballot: this.#ballot, meta: this.#checkpoint })
      return
    }
    if (peer.next > last) {
      if (allowEmpty) this.#sendEarly({ type: 'accept', from: this.#id, to: id, ballot: this.#ballot, entries: [], commit: this.#commit })
      return
    }
    while (peer.next <= last) {
      const end = Math.min(last, peer.next + this.#cfg.maxSlotsPerMessage - 1)
      // Peers in step get the same batch: build it once (messages are never mutated).
      let entries: WireSlot[]
      const cached = this.#lastBatch
      if (cached !== undefined && cached.from === peer.next && cached.to === end && sameBallot(cached.ballot, this.#ballot)) {
        entries = cached.entries
      } else {
        // The stored entries themselves: slots are encoded once, and sent as stored.
        entries = this.#slots.slice(peer.next - this.#compacted - 1, end - this.#compacted)
        this.#lastBatch = { from: peer.next, to: end, ballot: this.#ballot, entries }
      }
      this.#sendEarly({ type: 'accept', from: this.#id, to: id, ballot: this.#ballot, entries, commit: this.#commit })
      peer.next = end + 1
    }
  }

  /**
   * Go-back-N: a peer whose acknowledged run did not move over a heartbeat, although it answered
   * in the meantime, lost an accept: it gets the rest again. A peer that did not answer at all is
   * slow or unreachable, not missing anything we know of: resending the whole window to it would
   * only pile work on a busy replica (or on this leader, when a stalled event loop runs several
   * ticks back to back). It is resent to once it answers a heartbeat.
   */
  #retransmit (): void {
    for (const [id, peer] of this.#peers) {
      if (peer.heard && peer.match < this.#lastIndex() && peer.match === peer.matchAtLastHeartbeat && !peer.snapshotting) {
        peer.next = peer.match + 1
        this.#sendAccepts(id, peer, false)
      }
      peer.matchAtLastHeartbeat = peer.match
      peer.heard = false
    }
  }

  #broadcastHeartbeat (): void {
    for (const id of this.#peers.keys()) {
      this.#send({ type: 'heartbeat', from: this.#id, to: id, ballot: this.#ballot, commit: this.#commit, lastSlot: this.#lastIndex() + this.#queued.length, readSeq: this.#readSeq, sentTick: this.#tickCount })
    }
  }

  // ------------------------------------------------------------------ commit

  /** Learns that every slot up to `index` is chosen (the caller holds their values). */
  #advanceCommit (index: number): void {
    const target = Math.min(index, this.#lastIndex())
    if (target <= this.#commit) return
    const before = this.#currentConfig()
    this.#commit = target
    this.#hardDirty = true
    if (this.#runEnd < this.#commit) this.#runEnd = this.#commit
    const after = this.#currentConfig()
    if (after !== before) this.#configChanges.push({ slot: this.#commit + 1, config: after })
    this.#maybeFinishRecovery()
  }

  #maybeFinishRecovery (): void {
    if (this.#recovering && this.#recoverUntil > 0 && this.#commit >= this.#recoverUntil) {
      // Paxos Made Live §5.1: every slot this replica might have voted for before losing its
      // state is now chosen and held here, so its votes can count again.
      this.#recovering = false
      this.#promised = maxBallot(this.#promised, this.#maxSeen)
      this.#hardDirty = true
      this.#promiseDirty = true
    }
  }

  /** Counts phase-2 votes at this ballot, slot by slot, in each slot's own configuration. */
  #leaderCommit (): void {
    for (;;) {
      const slot = this.#commit + 1
      if (slot > this.#lastIndex()) break
      const config = this.#configFor(slot)
      const size = this.#quorums(config).phase2
      const matches: number[] = []
      for (const id of config.voters) {
        if (id === this.#id) matches.push(this.#selfMatch)
        else {
          const peer = this.#peers.get(id)
          if (peer !== undefined && peer.voter) matches.push(peer.match)
        }
      }
      if (matches.length < size) break
      matches.sort((a, b) => b - a)
      let chosen = matches[size - 1]!
      // Stop at the next configuration boundary: slots past it are counted in their own configuration.
      const boundary = this.#nextBoundary(slot)
      if (boundary !== undefined) chosen = Math.min(chosen, boundary - 1)
      if (chosen < slot) break
      this.#advanceCommit(chosen)
      let configChosen = false
      for (const c of this.#configSlots) {
        if (c.slot >= slot && c.slot <= this.#commit) {
          this.#padToActivation(c.slot)
          configChosen = true
        }
      }
      if (configChosen || this.#configSlots.some((c) => c.slot + this.#cfg.activationWindow === this.#commit + 1)) this.#syncPeers()
    }
    if (this.#readyIndex > 0 && this.#commit >= this.#readyIndex && this.#readsAwaitingReady.length > 0) {
      const waiting = this.#readsAwaitingReady
      this.#readsAwaitingReady = []
      for (const read of waiting) this.#startRead(read)
    }
    if (!this.#isVoter() && this.#role === 'leader') {
      // Removed from the voters: hand over by going quiet; a voter times out and takes over.
      this.#becomeFollower(undefined)
      return
    }
    this.#flushQueue()
  }

  /** The first slot after `slot` decided by a different configuration, if one is known. */
  #nextBoundary (slot: number): number | undefined {
    for (const c of this.#configSlots) {
      const activation = c.slot + this.#cfg.activationWindow
      if (activation > slot && c.slot <= this.#commit) return activation
    }
    return undefined
  }

  /** A chosen configuration change takes effect α slots later; no-ops get it there without waiting for traffic. */
  #padToActivation (configSlot: number): void {
    const target = configSlot + this.#cfg.activationWindow - 1
    const have = this.#lastIndex() + this.#queued.length
    for (let i = have; i < target; i++) this.#queued.push({ type: 'noop', data: NOOP })
  }

  // ------------------------------------------------------------------ messages in

  step (m: PaxosMessage): void {
    if (m.to !== this.#id) return
    if (compareBallots(m.ballot, this.#maxSeen) > 0) this.#maxSeen = m.ballot
    switch (m.type) {
      case 'prepare': this.#onPrepare(m); break
      case 'promise': this.#onPromise(m); break
      case 'accept': this.#onAccept(m); break
      case 'accepted': this.#onAccepted(m); break
      case 'heartbeat': this.#onHeartbeat(m); break
      case 'heartbeat-reply': this.#onHeartbeatReply(m); break
      case 'read-request': this.#onReadRequest(m); break
      case 'read-reply': this.#onReadReply(m); break
      case 'timeout-now':
        if (m.from === this.#leader && this.#role !== 'leader' && this.#isVoter()) this.#startPhase1(true)
        break
      case 'snapshot-chunk':
        // A replica receiving a snapshot keeps treating its sender as live.
        if (compareBallots(m.ballot, this.#promised) >= 0) this.#electionElapsed = 0
        break
      case 'snapshot-chunk-ack': break
    }
  }

  #onPrepare (m: Prepare): void {
    // A recovering replica makes no promise: it may have forgotten a higher one (Paxos Made Live §5.1).
    if (this.#recovering) return
    if (m.pre === true) {
      // Would we promise a new proposer now? The same stable-leader guard as below, with no state
      // changed. The reply carries our promise so that a phase 1 that follows outbids it.
      const leaderAlive = this.#leader !== undefined && this.#leader !== m.from && this.#electionElapsed < this.#cfg.electionTicks
      const ok = this.#role === 'leader' ? !this.#quorumRecentlyHeard() : !leaderAlive
      this.#send({ type: 'promise', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok, pre: true, commit: this.#commit, compacted: this.#compacted, accepted: [] })
      return
    }
    // Stable leader: while the leader is heard from, other proposers are ignored. This keeps
    // the leader in place and is what makes its lease sound (a new ballot needs our promise).
    const cmp = compareBallots(m.ballot, this.#promised)
    if (cmp < 0) {
      this.#send(this.#promiseReply(m.from, m.ballot, m.fromSlot, false))
      return
    }
    const leaderAlive = this.#leader !== undefined && this.#leader !== m.from && this.#electionElapsed < this.#cfg.electionTicks
    if (leaderAlive && !m.transfer && this.#role !== 'leader') return
    if (this.#role === 'leader' && !m.transfer && this.#quorumRecentlyHeard()) return
    if (cmp > 0) {
      this.#promised = m.ballot
      this.#hardDirty = true
      this.#promiseDirty = true
      if (this.#role === 'leader' || this.#role === 'candidate') this.#becomeFollower(undefined)
      // Promising a new proposer abandons the old leader, and our own pre-vote: running phase 1
      // now would only duel with the proposer we just promised.
      this.#leader = undefined
      this.#preBallot = undefined
      this.#electionElapsed = 0
    }
    this.#send(this.#promiseReply(m.from, m.ballot, m.fromSlot, true))
  }

  #quorumRecentlyHeard (): boolean {
    const config = this.#currentConfig()
    return hasQuorum(config.voters, this.#quorums(config).phase2, (id) => id === this.#id || (this.#peers.get(id)?.active === true && this.#peers.get(id)?.voter === true))
  }

  #onPromise (m: PromiseReply): void {
    if (this.#preBallot !== undefined && sameBallot(m.request, this.#preBallot)) {
      // A node that predates pre-votes answers with a real promise: it, too, says no leader holds it.
      if (m.ok) {
        this.#preGrants.add(m.from)
        this.#checkPreVote()
      }
      return
    }
    if (m.pre === true) return
    if (this.#role !== 'candidate' || !sameBallot(m.request, this.#ballot)) return
    if (!m.ok) {
      // Rejected: the reply carries the promise that beat us; the next attempt jumps past it
      // after a randomized backoff (duelling proposers may livelock briefly, never disagree).
      this.#becomeFollower(undefined)
      return
    }
    this.#promises.set(m.from, m)
    this.#checkPhase1()
  }

  /** `checkedFrom..checkedTo`, if given, are slots the caller just saw hold values at `ballot`. */
  #extendRun (ballot: Ballot, checkedFrom = 0, checkedTo = 0): void {
    if (!sameBallot(this.#runBallot, ballot)) {
      this.#runBallot = ballot
      this.#runEnd = this.#commit
    }
    if (this.#runEnd < this.#commit) this.#runEnd = this.#commit
    if (checkedTo > this.#runEnd && checkedFrom <= this.#runEnd + 1) this.#runEnd = checkedTo
    const id = ballotEnvelope(ballot)
    for (;;) {
      const next = this.#slot(this.#runEnd + 1)
      if (next === undefined || !storedAt(next, ballot, id)) break
      this.#runEnd++
    }
  }

  /** Accepting a message at `ballot` from its proposer: promise it and follow it as leader. */
  #follow (m: { from: NodeId, ballot: Ballot }): void {
    if (compareBallots(m.ballot, this.#promised) > 0) {
      this.#promised = m.ballot
      this.#hardDirty = true
      this.#promiseDirty = true
    }
    if (this.#role === 'leader' || this.#role === 'candidate') this.#becomeFollower(m.from)
    // A live leader at our promise or above: no election is needed.
    this.#preBallot = undefined
    if (this.#leader !== m.from) {
      this.#leader = m.from
      this.#leaderChanges++
    }
    this.#electionElapsed = 0
  }

  #onAccept (m: Accept): void {
    const voter = !this.#recovering
    if (compareBallots(m.ballot, this.#promised) < 0) {
      this.#send({ type: 'accepted', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok: false, gap: false, match: 0, voter })
      return
    }
    this.#follow(m)
    const first = m.entries[0]?.index
    if (first !== undefined && first > this.#lastIndex() + 1) {
      this.#extendRun(m.ballot)
      this.#send({ type: 'accepted', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok: false, gap: true, match: this.#runEnd, voter })
      return
    }
    const id = ballotEnvelope(m.ballot)
    let contiguous = true
    let expected = first ?? 0
    for (const entry of m.entries) {
      if (entry.index !== expected++) contiguous = false
      // Chosen slots never change; values at the same ballot are the same value (duplicates are idempotent).
      if (entry.index <= this.#commit || entry.index <= this.#compacted) continue
      const stored = storedFromWire(entry, m.ballot, id)
      if (entry.index === this.#lastIndex() + 1 && stored.type !== 'config') {
        // The usual case: a new slot past the log's end (what #write does, minus its rewrite cases).
        this.#slots.push(stored)
        if (entry.index < this.#dirtyFrom) this.#dirtyFrom = entry.index
        continue
      }
      const held = this.#slot(entry.index)
      if (held !== undefined && storedAt(held, m.ballot, id)) continue
      this.#write(entry.index, stored)
    }
    // Every slot of a contiguous accept above the chosen prefix now holds its value at m.ballot.
    if (contiguous) this.#extendRun(m.ballot, first ?? 0, expected - 1)
    else this.#extendRun(m.ballot)
    this.#advanceCommit(Math.min(m.commit, this.#runEnd))
    if (m.entries.length > 0) {
      this.#send({ type: 'accepted', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok: true, gap: false, match: this.#runEnd, voter })
    }
  }

  #onAccepted (m: Accepted): void {
    if (this.#role !== 'leader') return
    if (!m.ok && !m.gap && compareBallots(m.ballot, this.#ballot) > 0) {
      // The leader's fast path ends at the first rejection: someone promised a higher ballot.
      this.#becomeFollower(undefined)
      return
    }
    if (!sameBallot(m.request, this.#ballot)) return
    const peer = this.#peers.get(m.from)
    if (peer === undefined) return
    peer.active = true
    peer.heard = true
    peer.voter = m.voter
    if (m.gap) {
      // The acceptor's own account of its run wins: it may have lost state (a wiped disk).
      peer.match = m.match
      if (peer.gapResentAt !== m.match) {
        peer.gapResentAt = m.match
        peer.next = m.match + 1
        this.#sendAccepts(m.from, peer, false)
      }
      return
    }
    if (m.match > peer.match || !m.voter) peer.match = m.match
    if (peer.next <= peer.match) peer.next = peer.match + 1
    const before = this.#commit
    this.#leaderCommit()
    if (this.#commit > before) this.#broadcastAccepts(true)
  }

  #onHeartbeat (m: Heartbeat): void {
    const voter = !this.#recovering
    if (compareBallots(m.ballot, this.#promised) < 0) {
      this.#send({ type: 'heartbeat-reply', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok: false, match: 0, readSeq: m.readSeq, sentTick: m.sentTick, voter })
      return
    }
    this.#follow(m)
    if (this.#recovering && this.#recoverUntil === 0) {
      this.#recoverUntil = Math.max(1, m.lastSlot)
      this.#hardDirty = true
    }
    this.#maybeFinishRecovery()
    this.#extendRun(m.ballot)
    this.#advanceCommit(Math.min(m.commit, this.#runEnd))
    this.#send({ type: 'heartbeat-reply', from: this.#id, to: m.from, ballot: this.#promised, request: m.ballot, ok: true, match: this.#runEnd, readSeq: m.readSeq, sentTick: m.sentTick, voter })
  }

  #onHeartbeatReply (m: HeartbeatReply): void {
    if (this.#role !== 'leader') return
    if (!m.ok && compareBallots(m.ballot, this.#ballot) > 0) {
      this.#becomeFollower(undefined)
      return
    }
    if (!sameBallot(m.request, this.#ballot)) return
    const peer = this.#peers.get(m.from)
    if (peer === undefined) return
    peer.active = true
    peer.heard = true
    peer.voter = m.voter
    if (m.match > peer.match) peer.match = m.match
    if (m.voter) {
      if (m.sentTick > peer.ackedTick) peer.ackedTick = m.sentTick
      if (m.readSeq > peer.readSeq) peer.readSeq = m.readSeq
    }
    if (peer.next <= peer.match) peer.next = peer.match + 1
    const before = this.#commit
    this.#leaderCommit()
    if (this.#commit > before) this.#broadcastAccepts(true)
    this.#confirmReads()
  }

  // ------------------------------------------------------------------ reads

  readIndex (context: string, options: { lease?: boolean } = {}): void {
    this.#readLocal({ context, seq: 0, index: 0, from: undefined }, options.lease === true)
  }

  #readLocal (read: PendingRead, lease: boolean): void {
    if (this.#role !== 'leader') {
      if (read.from === undefined && this.#leader !== undefined) {
        this.#remoteReads.set(read.context, this.#leader)
        this.#send({ type: 'read-request', from: this.#id, to: this.#leader, ballot: this.#promised, context: read.context, lease })
      } else {
        this.#failRead(read, 'not-leader')
      }
      return
    }
    if (lease) {
      if (this.#commit >= this.#readyIndex && this.#leaseValid()) this.#completeRead({ ...read, index: this.#commit })
      else this.#failRead(read, 'lease-expired')
      return
    }
    if (this.#commit < this.#readyIndex) this.#readsAwaitingReady.push(read)
    else this.#startRead(read)
  }

  /** Read barrier: confirm with a phase-2 quorum that no higher ballot has been promised since. */
  #startRead (read: PendingRead): void {
    const seq = ++this.#readSeq
    this.#pendingReads.push({ ...read, seq, index: this.#commit })
    this.#broadcastHeartbeat()
    this.#confirmReads()
  }

  #confirmReads (): void {
    if (this.#pendingReads.length === 0) return
    const config = this.#currentConfig()
    const size = this.#quorums(config).phase2
    const acked: number[] = []
    for (const id of config.voters) acked.push(id === this.#id ? this.#readSeq : (this.#peers.get(id)?.readSeq ?? 0))
    if (acked.length < size) return
    acked.sort((a, b) => b - a)
    const confirmed = acked[size - 1]!
    const remaining: PendingRead[] = []
    for (const read of this.#pendingReads) {
      if (read.seq <= confirmed) this.#completeRead(read)
      else remaining.push(read)
    }
    this.#pendingReads = remaining
  }

  /**
   * The lease: a phase-2 quorum acknowledged a heartbeat sent at tick t, and each of those
   * acceptors refuses other proposers for an election timeout after receiving it. With clocks
   * drifting at most `maxClockDrift`, no other leader can exist before t + T(1 - drift).
   */
  #leaseValid (): boolean {
    if (this.#transferring) return false
    const config = this.#currentConfig()
    const size = this.#quorums(config).phase2
    const ticks: number[] = []
    for (const id of config.voters) ticks.push(id === this.#id ? this.#tickCount : (this.#peers.get(id)?.ackedTick ?? -1))
    if (ticks.length < size) return false
    ticks.sort((a, b) => b - a)
    const from = ticks[size - 1]!
    if (from < 0) return false
    return this.#tickCount < from + this.#cfg.electionTicks * (1 - this.#cfg.maxClockDrift)
  }

  #completeRead (read: PendingRead): void {
    if (read.from === undefined) this.#readStates.push({ context: read.context, index: read.index })
    else this.#send({ type: 'read-reply', from: this.#id, to: read.from, ballot: this.#ballot, context: read.context, index: read.index })
  }

  #failRead (read: PendingRead, reason: FailedRead['reason']): void {
    if (read.from === undefined) this.#failedReads.push({ context: read.context, reason, leaderHint: this.#leader })
    else this.#send({ type: 'read-reply', from: this.#id, to: read.from, ballot: this.#promised, context: read.context, index: -1 })
  }

  #onReadRequest (m: ReadRequest): void {
    this.#readLocal({ context: m.context, seq: 0, index: 0, from: m.from }, m.lease)
  }

  #onReadReply (m: ReadReply): void {
    if (this.#remoteReads.get(m.context) !== m.from) return
    this.#remoteReads.delete(m.context)
    if (m.index < 0) this.#failedReads.push({ context: m.context, reason: 'not-leader', leaderHint: this.#leader })
    else this.#readStates.push({ context: m.context, index: m.index })
  }

  // ------------------------------------------------------------------ transfer, snapshots

  transferLeadership (to?: NodeId): NodeId {
    if (this.#role !== 'leader') throw new NotLeaderError('not the leader', { leaderHint: this.#leader, term: this.#promised.round })
    let target = to
    if (target === undefined) {
      let best = -1
      for (const id of this.#currentConfig().voters) {
        const peer = this.#peers.get(id)
        if (id !== this.#id && peer !== undefined && peer.voter && peer.match > best) {
          best = peer.match
          target = id
        }
      }
    }
    if (target === undefined || target === this.#id) return this.#id
    if (!this.#currentConfig().voters.includes(target)) throw new InvalidArgumentError(`${target} is not a voter`, { field: 'to' })
    this.#transferring = true
    this.#send({ type: 'timeout-now', from: this.#id, to: target, ballot: this.#ballot })
    return target
  }

  snapshotTaken (point: PaxosSnapshotPoint): void {
    if (point.index > this.#checkpoint.index) this.#checkpoint = point
  }

  snapshotConfig (index: number): ClusterConfig | undefined {
    if (index > this.#commit) return undefined
    for (const c of this.#configSlots) {
      if (c.slot <= index && c.slot + this.#cfg.activationWindow > index + 1) return undefined
    }
    return this.#configFor(index + 1)
  }

  compact (upTo: number): number {
    // Compaction never deletes a slot that no durable checkpoint covers.
    if (upTo > this.#checkpoint.index) throw new InvalidArgumentError(`slot ${upTo} is past the durable checkpoint ${this.#checkpoint.index}`, { field: 'upTo' })
    if (upTo > this.#applied) throw new InvalidArgumentError(`slot ${upTo} is not applied yet`, { field: 'upTo' })
    if (upTo <= this.#compacted) return this.#slot(upTo)?.term ?? this.#checkpoint.term
    const term = this.#slot(upTo)!.term
    this.#baseConfig = this.#configFor(upTo + 1)
    this.#slots = this.#slots.slice(upTo - this.#compacted)
    this.#compacted = upTo
    this.#configSlots = this.#configSlots.filter((c) => c.slot > upTo || c.slot + this.#cfg.activationWindow > upTo + 1)
    return term
  }

  snapshotReceived (_from: NodeId, point: PaxosSnapshotPoint): void {
    if (point.index <= this.#commit) return
    // Accepted values beyond the snapshot are kept: they are votes, and forgetting a vote is unsafe.
    const keep = this.#slots.slice(Math.max(0, point.index - this.#compacted))
    this.#slots = point.index >= this.#lastIndex() ? [] : keep
    this.#compacted = point.index
    this.#configSlots = this.#configSlots.filter((c) => c.slot > point.index)
    this.#baseConfig = point.config
    this.#checkpoint = point
    this.#commit = point.index
    this.#applied = point.index
    this.#runEnd = point.index
    this.#runBallot = ZERO_BALLOT
    this.#hardDirty = true
    this.#snapshotToInstall = point
    if (this.#persisted < point.index) this.#persisted = point.index
    if (this.#dirtyFrom <= point.index) this.#dirtyFrom = Number.POSITIVE_INFINITY
    this.#configChanges.push({ slot: point.index + 1, config: this.#currentConfig() })
  }

  reportSnapshot (to: NodeId, ok: boolean): void {
    const peer = this.#peers.get(to)
    if (peer === undefined) return
    peer.snapshotting = false
    if (ok && peer.next <= this.#checkpoint.index) peer.next = this.#checkpoint.index + 1
    else if (!ok) peer.next = Math.max(peer.next, peer.match + 1)
    this.#sendAccepts(to, peer, false)
  }

  // ------------------------------------------------------------------ ready

  #send (m: PaxosMessage): void {
    this.#messages.push(m)
  }

  /** Accepts may leave before the leader's own write, unless the promise behind them is not yet durable. */
  #sendEarly (m: PaxosMessage): void {
    if (this.#promiseDirty) this.#messages.push(m)
    else this.#early.push(m)
  }

  #softState (): SoftState {
    return { role: this.#role, term: this.#role === 'leader' ? this.#ballot.round : this.#promised.round, leader: this.#leader }
  }

  hasReady (): boolean {
    const soft = this.#softState()
    return this.#messages.length > 0 || this.#early.length > 0 || this.#hardDirty || this.#dirtyFrom !== Number.POSITIVE_INFINITY ||
      this.#applied < this.#commit || this.#readStates.length > 0 || this.#failedReads.length > 0 || this.#snapshotSends.length > 0 ||
      this.#configChanges.length > 0 || this.#snapshotToInstall !== undefined ||
      soft.role !== this.#lastSoft.role || soft.term !== this.#lastSoft.term || soft.leader !== this.#lastSoft.leader
  }

  ready (): PaxosReady {
    const soft = this.#softState()
    const softChanged = soft.role !== this.#lastSoft.role || soft.term !== this.#lastSoft.term || soft.leader !== this.#lastSoft.leader
    this.#lastSoft = soft
    let entries: LogEntry[] = []
    if (this.#dirtyFrom !== Number.POSITIVE_INFINITY) {
      // A rewritten slot is stored with the whole suffix after it, in one append: LogStorage
      // replaces from the first index on, and the later slots' votes must survive.
      const first = Math.max(this.#dirtyFrom, this.#compacted + 1)
      entries = this.#slots.slice(first - this.#compacted - 1)
      this.#dirtyFrom = Number.POSITIVE_INFINITY
    }
    const committed = this.#takeCommitted()
    const rd: PaxosReady = {
      softState: softChanged ? soft : undefined,
      hardState: this.#hardDirty ? { promised: this.#promised, commit: this.#commit, recovering: this.#recovering, recoverUntil: this.#recoverUntil } : undefined,
      snapshot: this.#snapshotToInstall,
      entries,
      committedEntries: committed,
      earlyMessages: this.#early,
      messages: this.#messages,
      readStates: this.#readStates,
      failedReads: this.#failedReads,
      snapshotSends: this.#snapshotSends,
      configChanges: this.#configChanges
    }
    if (this.#role === 'leader') this.#readyBallot.set(rd, this.#ballot)
    this.#hardDirty = false
    this.#promiseDirty = false
    this.#snapshotToInstall = undefined
    this.#early = []
    this.#messages = []
    this.#readStates = []
    this.#failedReads = []
    this.#snapshotSends = []
    this.#configChanges = []
    return rd
  }

  takeEarly (): PaxosEarly {
    const messages = this.#early
    if (messages.length > 0) this.#early = []
    return { messages, committedEntries: this.#snapshotToInstall === undefined ? this.#takeCommitted() : [] }
  }

  /** Chosen slots not handed out yet, in slot order. */
  #takeCommitted (): LogEntry[] {
    const committed: LogEntry[] = []
    const applyTo = Math.min(this.#commit, this.#lastIndex())
    // A slot encoded in this process hands out the applied form built with it (on a leader, the
    // very bytes the caller proposed, which the driver recognises by identity); others get a view.
    for (let slot = Math.max(this.#applied + 1, this.#compacted + 1); slot <= applyTo; slot++) committed.push(appliedForm(this.#slot(slot)!))
    if (applyTo > this.#applied) this.#applied = applyTo
    return committed
  }

  advance (rd: PaxosReady): void {
    const last = rd.entries[rd.entries.length - 1]
    if (last !== undefined && last.index > this.#persisted) this.#persisted = last.index
    const ballot = this.#readyBallot.get(rd)
    if (last !== undefined && this.#role === 'leader' && ballot !== undefined && sameBallot(ballot, this.#ballot)) {
      // The leader votes for its own values once they are durable (all its slots past the chosen prefix are at its ballot).
      this.#selfMatch = Math.max(this.#selfMatch, Math.min(last.index, this.#lastIndex()))
      const before = this.#commit
      this.#leaderCommit()
      if (this.#commit > before) this.#broadcastAccepts(true)
      this.#confirmReads()
    }
  }

  proposedValue (slot: number): Uint8Array | undefined {
    const held = this.#slot(slot)
    if (held !== undefined) return storedValue(held)
    return this.#queued[slot - this.#lastIndex() - 1]?.data
  }

  status (): PaxosCoreStatus {
    const progress: Record<NodeId, PaxosPeerStatus> = {}
    for (const [id, peer] of this.#peers) progress[id] = { next: peer.next, match: peer.match, voter: peer.voter }
    return {
      id: this.#id,
      role: this.#role,
      term: this.#softState().term,
      ballot: this.#ballot,
      promised: this.#promised,
      leader: this.#leader,
      commitIndex: this.#commit,
      appliedIndex: this.#applied,
      firstIndex: this.#compacted + 1,
      lastIndex: this.#lastIndex(),
      persistedIndex: this.#persisted,
      config: this.#currentConfig(),
      recovering: this.#recovering,
      progress,
      leaderChanges: this.#leaderChanges
    }
  }
}
