import { InvalidArgumentError, InvalidMembershipError, NotLeaderError, OverloadedError, ProposalDroppedError } from '@synod/interfaces'
import type { ClusterConfig, HardState, LogEntry, MembershipChange, NodeId, Role } from '@synod/interfaces'
import { resolveCoreConfig } from './config.js'
import type { CoreSnapshotPoint, RaftCoreConfig, ResolvedCoreConfig } from './config.js'
import { applyChange, decodeConfig, emptyConfig, encodeConfig, isJoint, isVoter, leaveJoint, members } from './membership.js'
import type { AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, RaftMessage, ReadIndexRequest, ReadIndexResponse, VoteRequest, VoteResponse } from './messages.js'
import { Progress } from './progress.js'
import { jointCommitted, jointVote, majorityCommitted } from './quorum.js'
import type { JointVoters } from './quorum.js'
import { RaftLog, entrySize } from './raft-log.js'
import type { EntryFetch, FailedRead, ReadState, Ready, SnapshotSend, SoftState } from './ready.js'

/** Per-peer replication state, as reported by `status()`. */
export interface PeerStatus {
  match: number
  next: number
  state: 'probe' | 'replicate' | 'snapshot'
  paused: boolean
  inflightMessages: number
  inflightBytes: number
  recentActive: boolean
  isLearner: boolean
}

/** A snapshot of the core's state for status pages, metrics and tests. */
export interface CoreStatus {
  id: NodeId
  role: Role
  term: number
  vote: NodeId | null
  leader: NodeId | undefined
  commitIndex: number
  appliedIndex: number
  persistedIndex: number
  firstIndex: number
  lastIndex: number
  config: ClusterConfig
  /** Per-peer progress; only on the leader. */
  progress: Record<NodeId, PeerStatus>
  leadTransferee: NodeId | undefined
  /** How many times this node saw the leader change to a known node. */
  leaderChanges: number
  uncommittedBytes: number
  ticks: number
}

/** Where a proposal landed in the log. */
export interface ProposalPosition {
  index: number
  term: number
}

/**
 * The pure Raft state machine. Synchronous and deterministic: time enters through `tick()`,
 * randomness through the injected `Random`, and every effect leaves through `ready()`.
 */
export interface RaftCore {
  readonly id: NodeId
  /** Advances logical time by one tick (elections, heartbeats, check-quorum, transfer timeout). */
  tick(): void
  /** Handles one message from a peer. */
  step(message: RaftMessage): void
  /** Appends a command on the leader. Throws ERR_NOT_LEADER, ERR_PROPOSAL_DROPPED or ERR_OVERLOADED. */
  propose(data: Uint8Array): ProposalPosition
  /** Appends several commands at once; returns the position of the first. */
  proposeBatch(commands: readonly Uint8Array[]): ProposalPosition
  /** Proposes a membership change; throws ERR_INVALID_MEMBERSHIP for an unsafe one. */
  proposeMembership(change: MembershipChange): ProposalPosition & { config: ClusterConfig }
  /**
   * Requests a linearizable read point for `context` (a unique id). The answer comes through
   * `ready().readStates` (or `failedReads`). With `lease`, a leader with a valid lease answers
   * without a round trip; otherwise it falls back to ReadIndex. Lease reads require check-quorum.
   */
  readIndex(context: string, options?: { lease?: boolean }): void
  /** Hands leadership to `to` (or the most caught-up voter). */
  transferLeadership(to?: NodeId): NodeId
  /** Starts an election now (bootstrap, tests). */
  campaign(): void
  hasReady(): boolean
  ready(): Ready
  advance(ready: Ready): void
  /** Delivers the answer to an `EntryFetch`. */
  entriesFetched(id: number, entries: readonly LogEntry[]): void
  fetchFailed(id: number, error: unknown): void
  /**
   * A snapshot sent by `from` was fully received and is durable in snapshot storage; the core
   * adopts it (or ignores it if stale). Returns true if the driver must install it (ready().snapshot).
   */
  snapshotReceived(from: NodeId, meta: CoreSnapshotPoint): boolean
  /** The driver finished (or failed) streaming a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void
  /**
   * With lazy commit propagation, asks the leader to tell `peer` the commit index as soon as
   * `index` is committed and `peer` holds it, instead of at the next heartbeat: something on `peer`
   * waits for it (a proposal it forwarded). Does nothing in eager mode or on a non-leader.
   */
  notifyCommit(peer: NodeId, index: number): void
  /** A message to `to` could not be delivered; a streaming peer falls back to probing. */
  reportUnreachable(to: NodeId): void
  /** A local snapshot was taken as of `point.index` (at most the applied index); followers that fall behind it get this snapshot. */
  snapshotTaken(point: CoreSnapshotPoint): void
  /** Forgets entries up to `index` (at most the newest snapshot's index). Returns the term of `index`. */
  compact(index: number): number
  status(): CoreStatus
  /** The newest snapshot point known to the core. */
  latestSnapshot(): CoreSnapshotPoint
  /** True while this leader holds a valid lease (check-quorum, no transfer pending). */
  hasLease(): boolean
}

/** Creates a Raft core. */
export function createRaftCore (config: RaftCoreConfig): RaftCore {
  return new Core(resolveCoreConfig(config))
}

interface PendingRead {
  context: string
  index: number
  requester: NodeId
  acks: Map<NodeId, boolean>
}

type FetchPurpose =
  | { kind: 'peer', to: NodeId, term: number, from: number }
  | { kind: 'apply', from: number }

const EMPTY = new Uint8Array(0)

class Core implements RaftCore {
  readonly id: NodeId
  readonly #cfg: ResolvedCoreConfig
  readonly #log: RaftLog
  #term = 0
  #vote: NodeId | null = null
  #leader: NodeId | undefined
  #role: Role = 'follower'
  #config: ClusterConfig = emptyConfig()
  #voters: JointVoters = { incoming: new Set(), outgoing: new Set() }
  #progress = new Map<NodeId, Progress>()
  #snapshot: CoreSnapshotPoint
  #electionElapsed = 0
  #heartbeatElapsed = 0
  #randomizedTimeout = 0
  #ticks = 0
  /** With check-quorum, a restarted node refuses votes until this tick (it may have forgotten a live leader's lease). */
  #voteGuardUntil = 0
  #votes = new Map<NodeId, boolean>()
  #leadTransferee: NodeId | undefined
  #pendingConfigIndex = 0
  #uncommittedBytes = 0
  #readQueue: PendingRead[] = []
  #readsAwaitingCommit: Array<{ context: string, requester: NodeId, lease: boolean }> = []
  #leaderChanges = 0
  // Outboxes, drained by ready().
  #messages: RaftMessage[] = []
  #earlyMessages: RaftMessage[] = []
  #readStates: ReadState[] = []
  #failedReads: FailedRead[] = []
  #fetches: EntryFetch[] = []
  #snapshotSends: SnapshotSend[] = []
  #configChanges: Array<{ index: number, config: ClusterConfig }> = []
  #pendingInstall: CoreSnapshotPoint | undefined
  #fetchPurposes = new Map<number, FetchPurpose>()
  #nextFetchId = 1
  #applyFetchInFlight = false
  #applyBuffer: LogEntry[] = []
  #prevHardState: HardState
  #prevSoftState: SoftState

  constructor (cfg: ResolvedCoreConfig) {
    this.id = cfg.id
    this.#cfg = cfg
    this.#snapshot = cfg.snapshot ?? { index: 0, term: 0, config: emptyConfig() }
    const hard = cfg.hardState ?? { term: 0, vote: null, commit: 0 }
    this.#log = new RaftLog(cfg.storage, this.#snapshot, hard.commit, this.#snapshot.index)
    this.#term = hard.term
    this.#vote = hard.vote
    this.#applyConfig(this.#snapshot.config)
    this.#configChanges = []
    this.#resetRandomizedTimeout()
    // A restarted node may have acknowledged a leader just before going down; it keeps that
    // leader's lease safe by refusing votes for one election timeout (a fresh node promised nothing).
    if (cfg.checkQuorum && hard.term > 0) this.#voteGuardUntil = cfg.electionTicks
    this.#prevHardState = this.#hardState()
    this.#prevSoftState = this.#softState()
  }

  // ---------------------------------------------------------------- time

  tick (): void {
    this.#ticks++
    if (this.#role === 'leader') this.#tickLeader()
    else this.#tickElection()
  }

  #tickElection (): void {
    this.#electionElapsed++
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedTimeout) {
      this.#electionElapsed = 0
      this.#campaign(this.#cfg.preVote ? 'pre' : 'real')
    }
  }

  #tickLeader (): void {
    this.#heartbeatElapsed++
    this.#electionElapsed++
    if (this.#electionElapsed >= this.#cfg.electionTicks) {
      this.#electionElapsed = 0
      if (this.#cfg.checkQuorum) {
        // Dissertation §6.2: a leader that cannot reach a quorum for an election timeout steps down.
        if (!this.#quorumActive()) {
          this.#becomeFollower(this.#term, undefined)
          return
        }
        for (const [id, pr] of this.#progress) if (id !== this.id) pr.recentActive = false
      }
      // Dissertation §3.10: a transfer that has not finished within an election timeout is aborted.
      if (this.#leadTransferee !== undefined) this.#leadTransferee = undefined
    }
    if (this.#heartbeatElapsed >= this.#cfg.heartbeatTicks) {
      this.#heartbeatElapsed = 0
      this.#broadcastHeartbeat(this.#readQueue.at(-1)?.context ?? '')
    }
  }

  #quorumActive (): boolean {
    const votes = new Map<NodeId, boolean>()
    for (const [id, pr] of this.#progress) votes.set(id, id === this.id || pr.recentActive)
    return jointVote(this.#voters, votes) === 'won'
  }

  #resetRandomizedTimeout (): void {
    // Raft §5.2: randomized over [T, 2T) so that split votes are rare.
    this.#randomizedTimeout = this.#cfg.electionTicks + this.#cfg.random.int(this.#cfg.electionTicks)
  }

  #promotable (): boolean {
    return isVoter(this.#config, this.id)
  }

  // ---------------------------------------------------------------- roles

  #reset (term: number): void {
    if (this.#term !== term) {
      this.#term = term
      this.#vote = null
    }
    this.#leader = undefined
    this.#electionElapsed = 0
    this.#heartbeatElapsed = 0
    this.#resetRandomizedTimeout()
    this.#leadTransferee = undefined
    this.#votes.clear()
    this.#pendingConfigIndex = 0
    this.#uncommittedBytes = 0
    for (const [id, pr] of this.#progress) {
      const fresh = new Progress(this.#log.lastIndex() + 1, this.#cfg.maxInflightMessages, this.#cfg.maxInflightBytes, pr.isLearner)
      if (id === this.id) fresh.match = this.#log.persisted
      this.#progress.set(id, fresh)
    }
    this.#failAllReads('not-leader')
  }

  #failAllReads (reason: FailedRead['reason']): void {
    for (const read of this.#readQueue) this.#failRead(read.context, read.requester, reason)
    for (const read of this.#readsAwaitingCommit) this.#failRead(read.context, read.requester, reason)
    this.#readQueue = []
    this.#readsAwaitingCommit = []
  }

  #failRead (context: string, requester: NodeId, reason: FailedRead['reason']): void {
    if (requester === this.id) this.#failedReads.push({ context, reason, leaderHint: this.#leader })
    else this.#send({ type: 'read-index-response', from: this.id, to: requester, term: this.#term, context, index: -1 })
  }

  #becomeFollower (term: number, leader: NodeId | undefined): void {
    this.#reset(term)
    this.#role = this.#promotable() || this.#config.voters.length === 0 ? 'follower' : 'learner'
    this.#setLeader(leader)
  }

  #setLeader (leader: NodeId | undefined): void {
    if (leader !== undefined && leader !== this.#leader) this.#leaderChanges++
    this.#leader = leader
  }

  #campaign (kind: 'pre' | 'real' | 'transfer'): void {
    let voteTerm: number
    if (kind === 'pre') {
      // Dissertation §9.6: ask first whether an election could succeed, without raising our term.
      this.#role = 'pre-candidate'
      this.#votes.clear()
      this.#leader = undefined
      voteTerm = this.#term + 1
    } else {
      this.#reset(this.#term + 1)
      this.#role = 'candidate'
      this.#vote = this.id
      voteTerm = this.#term
    }
    this.#votes.set(this.id, true)
    if (jointVote(this.#voters, this.#votes) === 'won') {
      if (kind === 'pre') this.#campaign('real')
      else this.#becomeLeader()
      return
    }
    const lastIndex = this.#log.lastIndex()
    const lastTerm = this.#log.lastTerm()
    for (const id of this.#allVoters()) {
      if (id === this.id) continue
      this.#send({ type: 'vote-request', from: this.id, to: id, term: voteTerm, preVote: kind === 'pre', lastIndex, lastTerm, transfer: kind === 'transfer' })
    }
  }

  #becomeLeader (): void {
    this.#reset(this.#term)
    this.#role = 'leader'
    this.#setLeader(this.id)
    for (const [id, pr] of this.#progress) {
      if (id === this.id) pr.becomeReplicate()
      pr.recentActive = true
    }
    // No config change until every entry of earlier terms is applied (etcd's pendingConfIndex).
    this.#pendingConfigIndex = this.#log.lastIndex()
    // Raft §8: a new leader commits a no-op so it learns the commit index and can serve reads.
    this.#appendLeader([{ type: 'noop', data: EMPTY }], false)
  }

  #allVoters (): Set<NodeId> {
    return new Set([...this.#voters.incoming, ...this.#voters.outgoing])
  }

  campaign (): void {
    if (this.#role === 'leader' || !this.#promotable()) return
    this.#campaign('real')
  }

  // ---------------------------------------------------------------- messages in

  step (m: RaftMessage): void {
    if (m.to !== this.id) return
    if (m.term > this.#term) {
      if (m.type === 'vote-request') {
        // Dissertation §6.2/§4.2.3: while a leader is live (heard within the minimum election
        // timeout), disruptive candidates are ignored. A transfer target's request overrides this.
        const inLease = this.#cfg.checkQuorum && !m.transfer &&
          ((this.#leader !== undefined && this.#electionElapsed < this.#cfg.electionTicks) || this.#ticks < this.#voteGuardUntil)
        if (inLease) return
      }
      if (m.type === 'vote-request' && m.preVote) {
        // A pre-vote never changes our term.
      } else if (m.type === 'vote-response' && m.preVote && m.granted) {
        // Granted pre-votes carry the future term; it is not ours yet.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot-chunk') {
        this.#becomeFollower(m.term, m.from)
      } else {
        this.#becomeFollower(m.term, undefined)
      }
    } else if (m.term < this.#term) {
      if ((this.#cfg.checkQuorum || this.#cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A deposed leader cut off by a partition may never learn the new term otherwise (our
        // term rose without its participation). Answering lets it step down.
        this.#send({ type: 'append-response', from: this.id, to: m.from, term: this.#term, reject: false, index: 0, hintIndex: 0, hintTerm: 0 })
      } else if (m.type === 'vote-request' && m.preVote) {
        this.#send({ type: 'vote-response', from: this.id, to: m.from, term: this.#term, preVote: true, granted: false })
      }
      // Raft §5.1: anything else from an older term is stale and ignored.
      return
    }

    if (m.type === 'vote-request') {
      this.#handleVoteRequest(m)
      return
    }
    switch (this.#role) {
      case 'leader': this.#stepLeader(m); break
      case 'candidate':
      case 'pre-candidate': this.#stepCandidate(m); break
      default: this.#stepFollower(m)
    }
  }

  #handleVoteRequest (m: VoteRequest): void {
    // One vote per term (§5.2); a repeated request from the candidate we voted for is granted again.
    const canVote = this.#vote === m.from ||
      (this.#vote === null && this.#leader === undefined) ||
      (m.preVote && m.term > this.#term)
    // §5.4.1: only for a candidate whose log is at least as up to date as ours.
    if (canVote && this.#log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.#send({ type: 'vote-response', from: this.id, to: m.from, term: m.term, preVote: m.preVote, granted: true })
      if (!m.preVote) {
        this.#electionElapsed = 0
        this.#vote = m.from
      }
    } else {
      this.#send({ type: 'vote-response', from: this.id, to: m.from, term: this.#term, preVote: m.preVote, granted: false })
    }
  }

  #stepFollower (m: RaftMessage): void {
    switch (m.type) {
      case 'append':
        this.#electionElapsed = 0
        this.#setLeader(m.from)
        this.#handleAppend(m)
        break
      case 'heartbeat':
        this.#electionElapsed = 0
        this.#setLeader(m.from)
        this.#handleHeartbeat(m)
        break
      case 'snapshot-chunk':
        this.#electionElapsed = 0
        this.#setLeader(m.from)
        break
      case 'timeout-now':
        // Dissertation §3.10: the leader handed over; campaign at once, skipping pre-vote.
        if (this.#promotable()) this.#campaign('transfer')
        break
      case 'read-index':
        this.#send({ type: 'read-index-response', from: this.id, to: m.from, term: this.#term, context: m.context, index: -1 })
        break
      case 'read-index-response':
        this.#handleReadIndexResponse(m)
        break
      default:
        break
    }
  }

  #stepCandidate (m: RaftMessage): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot-chunk':
        // §5.2: another server established itself as leader for this term.
        this.#becomeFollower(m.term, m.from)
        this.#stepFollower(m)
        break
      case 'vote-response':
        this.#handleVoteResponse(m)
        break
      case 'read-index':
        this.#send({ type: 'read-index-response', from: this.id, to: m.from, term: this.#term, context: m.context, index: -1 })
        break
      case 'read-index-response':
        this.#handleReadIndexResponse(m)
        break
      default:
        break
    }
  }

  #handleVoteResponse (m: VoteResponse): void {
    if ((this.#role === 'pre-candidate') !== m.preVote) return
    this.#votes.set(m.from, m.granted)
    const result = jointVote(this.#voters, this.#votes)
    if (result === 'won') {
      if (this.#role === 'pre-candidate') this.#campaign('real')
      else this.#becomeLeader()
    } else if (result === 'lost') {
      this.#becomeFollower(this.#term, undefined)
    }
  }

  #handleAppend (m: AppendRequest): void {
    const reply = (fields: Pick<AppendResponse, 'reject' | 'index' | 'hintIndex' | 'hintTerm'>): void => {
      this.#send({ type: 'append-response', from: this.id, to: m.from, term: this.#term, ...fields })
    }
    if (m.prevIndex < this.#log.committed) {
      reply({ reject: false, index: this.#log.committed, hintIndex: 0, hintTerm: 0 })
      return
    }
    if (this.#log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = m.prevIndex + m.entries.length
      this.#log.appendFollower(m.entries)
      // §5.3: commit min(leaderCommit, index of last new entry).
      this.#log.commitTo(Math.min(m.commit, lastNew))
      reply({ reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 })
      return
    }
    const hint = this.#log.findConflictByTerm(Math.min(m.prevIndex, this.#log.lastIndex()), m.prevTerm)
    reply({ reject: true, index: m.prevIndex, hintIndex: hint.index, hintTerm: hint.term })
  }

  #handleHeartbeat (m: Heartbeat): void {
    this.#log.commitTo(Math.min(m.commit, this.#log.lastIndex()))
    this.#send({ type: 'heartbeat-response', from: this.id, to: m.from, term: this.#term, readContext: m.readContext, sentTick: m.sentTick })
  }

  #handleReadIndexResponse (m: ReadIndexResponse): void {
    if (m.index < 0) this.#failedReads.push({ context: m.context, reason: 'not-leader', leaderHint: this.#leader })
    else this.#readStates.push({ context: m.context, index: m.index })
  }

  #stepLeader (m: RaftMessage): void {
    switch (m.type) {
      case 'append-response': this.#handleAppendResponse(m); break
      case 'heartbeat-response': this.#handleHeartbeatResponse(m); break
      case 'read-index': this.#handleReadIndexRequest(m); break
      default: break
    }
  }

  #handleAppendResponse (m: AppendResponse): void {
    const pr = this.#progress.get(m.from)
    if (pr === undefined) return
    pr.recentActive = true
    if (m.reject) {
      let nextProbe = m.hintIndex
      // Fast backtracking: skip every leader entry whose term is above the follower's hint term.
      if (m.hintTerm > 0) nextProbe = this.#log.findConflictByTerm(m.hintIndex, m.hintTerm).index
      if (pr.maybeDecreaseTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe()
        this.#sendAppend(m.from)
      }
      return
    }
    const wasPaused = pr.isPaused()
    if (!pr.maybeUpdate(m.index)) return
    if (pr.state === 'probe') pr.becomeReplicate()
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate()
    else if (pr.state === 'replicate') pr.inflights.freeUpTo(m.index)

    // A peer that was paused may have missed the commit index: resume it with an append even if it
    // carries no entries (when the commit advanced, #commitAndPropagate already chose what to send).
    if (!this.#commitAndPropagate() && wasPaused) this.#sendAppend(m.from)
    while (this.#sendAppend(m.from, false)) { /* stream while the window allows */ }
    this.#flushWantedCommit(m.from, pr)
    if (m.from === this.#leadTransferee && pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(m.from)
  }

  #handleHeartbeatResponse (m: HeartbeatResponse): void {
    const pr = this.#progress.get(m.from)
    if (pr === undefined) return
    pr.recentActive = true
    pr.probeSent = false
    if (m.sentTick > pr.ackedTick) pr.ackedTick = m.sentTick
    if (pr.match < this.#log.lastIndex()) this.#sendAppend(m.from)
    if (m.readContext !== '') this.#ackRead(m.from, m.readContext)
  }

  // ---------------------------------------------------------------- replication

  #send (message: RaftMessage): void {
    this.#messages.push(message)
  }

  #broadcastAppend (): void {
    for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id)
  }

  /**
   * Commits what a quorum holds and tells the followers (see `commitPropagation`). Returns true
   * if the commit index advanced.
   */
  #commitAndPropagate (): boolean {
    const previous = this.#log.committed
    if (!this.#maybeCommit()) return false
    // Even in lazy mode a commit that covers a membership change goes out at once: the change takes
    // effect on each node when it applies it, and a leader removed by it steps down right after
    // (dissertation §4.2.2) and sends no heartbeat. A new leader's first commit (pendingConfigIndex
    // is its last index when elected) goes out too: it settles the entries of earlier terms.
    const crossesConfig = previous < this.#pendingConfigIndex && this.#pendingConfigIndex <= this.#log.committed
    if (this.#cfg.commitPropagation === 'eager' || crossesConfig) {
      this.#broadcastAppend()
      return true
    }
    // Lazy (hashicorp/raft): appends that carry entries carry the commit index; nothing is sent
    // only for it, except to a follower something waits on.
    for (const [id, pr] of this.#progress) {
      if (id === this.id) continue
      if (!this.#sendAppend(id, false)) this.#flushWantedCommit(id, pr)
    }
    return true
  }

  /** Lazy mode: tells `to` the commit index now if something on it waits for a commit it holds but was not told. */
  #flushWantedCommit (to: NodeId, pr: Progress): void {
    if (pr.commitWanted <= pr.sentCommit) return
    if (Math.min(pr.match, this.#log.committed) <= pr.sentCommit) return
    // A paused peer has appends in flight; each answer brings us back here.
    this.#sendAppend(to)
  }

  notifyCommit (peer: NodeId, index: number): void {
    if (this.#role !== 'leader' || this.#cfg.commitPropagation === 'eager' || peer === this.id) return
    const pr = this.#progress.get(peer)
    if (pr === undefined) return
    if (index > pr.commitWanted) pr.commitWanted = index
    this.#flushWantedCommit(peer, pr)
  }

  #broadcastHeartbeat (readContext: string): void {
    for (const [id, pr] of this.#progress) {
      if (id === this.id) continue
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.#log.committed)
      if (commit > pr.sentCommit) pr.sentCommit = commit
      this.#earlyMessages.push({ type: 'heartbeat', from: this.id, to: id, term: this.#term, commit, readContext, sentTick: this.#ticks })
    }
  }

  /** Sends the next append to `to` if its progress allows. Returns true if one was sent. */
  #sendAppend (to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.#progress.get(to)
    if (pr === undefined || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.#log.term(prevIndex)
    if (prevTerm === undefined) {
      this.#sendSnapshot(to, pr)
      return false
    }
    const lastIndex = this.#log.lastIndex()
    if (pr.next < this.#log.cacheOffset && pr.next <= lastIndex) {
      this.#fetchForPeer(to, pr)
      return false
    }
    const entries = this.#log.cachedSlice(pr.next, lastIndex + 1, this.#cfg.maxSizePerMessage) ?? []
    if (entries.length === 0 && !sendIfEmpty) return false
    this.#emitAppend(to, pr, prevIndex, prevTerm, entries, entries.length === 0 ? 0 : this.#log.cachedBytes(pr.next, pr.next + entries.length))
    return true
  }

  /** `bytes` is the total entrySize of `entries`. */
  #emitAppend (to: NodeId, pr: Progress, prevIndex: number, prevTerm: number, entries: LogEntry[], bytes: number): void {
    const last = entries.at(-1)?.index ?? prevIndex
    pr.sentEntries(last, bytes, entries.length)
    // The follower commits up to min(commit, its last new entry) (§5.3).
    const told = Math.min(this.#log.committed, last)
    if (told > pr.sentCommit) pr.sentCommit = told
    // Dissertation §10.2.1: the leader's appends may leave before its own write is durable.
    this.#earlyMessages.push({ type: 'append', from: this.id, to, term: this.#term, prevIndex, prevTerm, entries, commit: this.#log.committed })
  }

  #fetchForPeer (to: NodeId, pr: Progress): void {
    const id = this.#nextFetchId++
    pr.fetching = true
    this.#fetchPurposes.set(id, { kind: 'peer', to, term: this.#term, from: pr.next })
    this.#fetches.push({ id, from: pr.next, to: Math.min(this.#log.cacheOffset, this.#log.lastIndex() + 1), maxBytes: this.#cfg.maxSizePerMessage })
  }

  #sendSnapshot (to: NodeId, pr: Progress): void {
    const snapshot = this.#snapshot
    pr.becomeSnapshot(snapshot.index)
    this.#snapshotSends.push({ to, term: this.#term, meta: { index: snapshot.index, term: snapshot.term, config: snapshot.config } })
  }

  #sendTimeoutNow (to: NodeId): void {
    this.#earlyMessages.push({ type: 'timeout-now', from: this.id, to, term: this.#term })
  }

  #maybeCommit (): boolean {
    const index = jointCommitted(this.#voters, (id) => this.#progress.get(id)?.match ?? 0)
    // Raft §5.4.2 (Figure 8): only entries of the current term are committed by counting replicas.
    if (index <= this.#log.committed || this.#log.term(index) !== this.#term) return false
    const previous = this.#log.committed
    this.#log.commitTo(index)
    this.#releaseUncommitted(previous, index)
    if (this.#readsAwaitingCommit.length > 0) {
      const waiting = this.#readsAwaitingCommit
      this.#readsAwaitingCommit = []
      for (const read of waiting) this.#serveRead(read.context, read.requester, read.lease)
    }
    return true
  }

  #releaseUncommitted (from: number, to: number): void {
    if (this.#uncommittedBytes === 0) return
    for (let i = from + 1; i <= to; i++) {
      const entry = this.#log.cached(i)
      if (entry !== undefined && entry.term === this.#term && entry.type === 'command') this.#uncommittedBytes -= entry.data.byteLength
    }
    if (this.#uncommittedBytes < 0) this.#uncommittedBytes = 0
  }

  // ---------------------------------------------------------------- proposals

  propose (data: Uint8Array): ProposalPosition {
    return this.proposeBatch([data])
  }

  proposeBatch (commands: readonly Uint8Array[]): ProposalPosition {
    this.#checkCanPropose()
    let bytes = 0
    for (const command of commands) bytes += command.byteLength
    // A bound on uncommitted data keeps a leader that cannot commit from growing without limit.
    // One proposal is always admitted when nothing is outstanding, so a large entry cannot wedge.
    const limit = this.#cfg.maxUncommittedBytes
    if (limit > 0 && this.#uncommittedBytes > 0 && this.#uncommittedBytes + bytes > limit) {
      throw new OverloadedError(`uncommitted proposals exceed ${limit} bytes`)
    }
    this.#uncommittedBytes += bytes
    // Entries are built here directly (not through #appendLeader's item list): one object per proposal.
    const first = this.#log.lastIndex() + 1
    const term = this.#term
    const entries = new Array<LogEntry>(commands.length)
    for (let i = 0; i < commands.length; i++) entries[i] = { index: first + i, term, type: 'command', data: commands[i]! }
    return this.#appendEntries(entries, true)
  }

  proposeMembership (change: MembershipChange): ProposalPosition & { config: ClusterConfig } {
    this.#checkCanPropose()
    if (this.#pendingConfigIndex > this.#log.applied) {
      throw new InvalidMembershipError('another membership change is still pending')
    }
    const next = applyChange(this.#config, change)
    const position = this.#appendLeader([{ type: 'config', data: encodeConfig(next) }], true)
    this.#pendingConfigIndex = position.index
    return { ...position, config: next }
  }

  #checkCanPropose (): void {
    if (this.#role !== 'leader') throw new NotLeaderError('not the leader', { leaderHint: this.#leader, term: this.#term })
    if (this.#leadTransferee !== undefined) throw new ProposalDroppedError('leadership transfer in progress')
    if (!this.#progress.has(this.id)) throw new ProposalDroppedError('this leader is being removed from the cluster')
  }

  #appendLeader (items: ReadonlyArray<{ type: LogEntry['type'], data: Uint8Array }>, broadcast: boolean): ProposalPosition {
    const first = this.#log.lastIndex() + 1
    return this.#appendEntries(items.map((item, i) => ({ index: first + i, term: this.#term, type: item.type, data: item.data })), broadcast)
  }

  #appendEntries (entries: LogEntry[], broadcast: boolean): ProposalPosition {
    const first = entries[0]?.index ?? this.#log.lastIndex() + 1
    this.#log.appendLocal(entries)
    // The leader counts itself only once its own write is durable (see advance()).
    if (broadcast) {
      for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id, false)
    } else {
      this.#broadcastAppend()
    }
    return { index: first, term: this.#term }
  }

  // ---------------------------------------------------------------- reads

  readIndex (context: string, options: { lease?: boolean } = {}): void {
    const lease = options.lease ?? false
    if (lease && !this.#cfg.checkQuorum) throw new InvalidArgumentError('lease reads require checkQuorum', { field: 'lease' })
    if (this.#role === 'leader') {
      this.#handleRead(context, this.id, lease)
    } else if (this.#leader !== undefined) {
      this.#send({ type: 'read-index', from: this.id, to: this.#leader, term: this.#term, context, lease })
    } else {
      this.#failedReads.push({ context, reason: 'not-leader', leaderHint: undefined })
    }
  }

  #handleReadIndexRequest (m: ReadIndexRequest): void {
    if (m.lease && !this.#cfg.checkQuorum) {
      this.#failRead(m.context, m.from, 'lease-expired')
      return
    }
    this.#handleRead(m.context, m.from, m.lease)
  }

  #handleRead (context: string, requester: NodeId, lease: boolean): void {
    // Dissertation §6.4: a new leader does not know the commit index until its own no-op commits.
    if (this.#log.term(this.#log.committed) !== this.#term) {
      this.#readsAwaitingCommit.push({ context, requester, lease })
      return
    }
    this.#serveRead(context, requester, lease)
  }

  #serveRead (context: string, requester: NodeId, lease: boolean): void {
    const index = this.#log.committed
    if ((lease && this.hasLease()) || this.#isSingleVoter()) {
      this.#answerRead(context, requester, index)
      return
    }
    this.#readQueue.push({ context, index, requester, acks: new Map([[this.id, true]]) })
    this.#broadcastHeartbeat(context)
  }

  #isSingleVoter (): boolean {
    const all = this.#allVoters()
    return all.size === 1 && all.has(this.id)
  }

  #answerRead (context: string, requester: NodeId, index: number): void {
    if (requester === this.id) {
      this.#readStates.push({ context, index })
      return
    }
    this.#send({ type: 'read-index-response', from: this.id, to: requester, term: this.#term, context, index })
    // The reader waits until it has applied `index`; in lazy mode make sure it learns that commit
    // now (a lease read skips the heartbeat round, and a lagging reader was told less in it).
    if (this.#cfg.commitPropagation === 'lazy') this.notifyCommit(requester, index)
  }

  #ackRead (from: NodeId, context: string): void {
    const position = this.#readQueue.findIndex((read) => read.context === context)
    if (position < 0) return
    const read = this.#readQueue[position]
    if (read === undefined) return
    read.acks.set(from, true)
    if (jointVote(this.#voters, read.acks) !== 'won') return
    // A quorum confirmed leadership after this read arrived, so every earlier read is confirmed too.
    const confirmed = this.#readQueue.splice(0, position + 1)
    for (const r of confirmed) this.#answerRead(r.context, r.requester, r.index)
  }

  hasLease (): boolean {
    if (this.#role !== 'leader' || !this.#cfg.checkQuorum || this.#leadTransferee !== undefined) return false
    // The newest heartbeat send time acknowledged by a quorum: no voter that acknowledged it will
    // vote for anyone else for electionTicks after receiving it (check-quorum), so no other leader
    // can exist until then, less the clock drift bound.
    const ackedOf = (id: NodeId): number => id === this.id ? this.#ticks : (this.#progress.get(id)?.ackedTick ?? Number.NEGATIVE_INFINITY)
    const start = Math.min(majorityCommitted(this.#voters.incoming, ackedOf), majorityCommitted(this.#voters.outgoing, ackedOf))
    if (!Number.isFinite(start)) return false
    const leaseTicks = Math.floor(this.#cfg.electionTicks * (1 - this.#cfg.maxClockDrift))
    return this.#ticks < start + leaseTicks
  }

  // ---------------------------------------------------------------- transfer

  transferLeadership (to?: NodeId): NodeId {
    if (this.#role !== 'leader') throw new NotLeaderError('not the leader', { leaderHint: this.#leader, term: this.#term })
    let target = to
    if (target === undefined) {
      let best = -1
      for (const id of this.#allVoters()) {
        const match = this.#progress.get(id)?.match ?? 0
        if (id !== this.id && match > best) {
          best = match
          target = id
        }
      }
      if (target === undefined) throw new InvalidArgumentError('no other voter to transfer leadership to', { field: 'to' })
    }
    if (target === this.id) return target
    if (!this.#allVoters().has(target)) throw new InvalidArgumentError(`${target} is not a voter`, { field: 'to' })
    if (this.#leadTransferee === target) return target
    this.#leadTransferee = target
    // The transfer must finish within one election timeout (dissertation §3.10).
    this.#electionElapsed = 0
    const pr = this.#progress.get(target)
    if (pr !== undefined && pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(target)
    else this.#sendAppend(target)
    return target
  }

  // ---------------------------------------------------------------- storage interplay

  entriesFetched (id: number, entries: readonly LogEntry[]): void {
    const purpose = this.#fetchPurposes.get(id)
    if (purpose === undefined) return
    this.#fetchPurposes.delete(id)
    if (purpose.kind === 'apply') {
      this.#applyFetchInFlight = false
      let expected = this.#log.applied + this.#applyBuffer.length + 1
      for (const entry of entries) {
        if (entry.index !== expected || entry.index > this.#log.committed || !this.#log.matchTerm(entry.index, entry.term)) break
        this.#applyBuffer.push(entry)
        expected++
      }
      return
    }
    const pr = this.#progress.get(purpose.to)
    if (pr === undefined) return
    pr.fetching = false
    if (this.#role !== 'leader' || this.#term !== purpose.term || pr.next !== purpose.from || pr.isPaused()) return
    const valid: LogEntry[] = []
    let expected = purpose.from
    let bytes = 0
    for (const entry of entries) {
      if (entry.index !== expected || !this.#log.matchTerm(entry.index, entry.term)) break
      bytes += entrySize(entry)
      if (valid.length > 0 && bytes > this.#cfg.maxSizePerMessage) break
      valid.push(entry)
      expected++
    }
    const prevTerm = this.#log.term(purpose.from - 1)
    if (prevTerm === undefined) {
      this.#sendSnapshot(purpose.to, pr)
      return
    }
    if (valid.length === 0) return
    this.#emitAppend(purpose.to, pr, purpose.from - 1, prevTerm, valid, bytes)
    while (this.#sendAppend(purpose.to, false)) { /* keep streaming */ }
  }

  fetchFailed (id: number, error: unknown): void {
    const purpose = this.#fetchPurposes.get(id)
    if (purpose === undefined) return
    this.#fetchPurposes.delete(id)
    if (purpose.kind === 'apply') {
      this.#applyFetchInFlight = false
      return
    }
    const pr = this.#progress.get(purpose.to)
    if (pr === undefined) return
    pr.fetching = false
    const compacted = typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_COMPACTED'
    if (compacted && this.#role === 'leader' && this.#term === purpose.term) this.#sendSnapshot(purpose.to, pr)
  }

  snapshotReceived (from: NodeId, meta: CoreSnapshotPoint): boolean {
    const reply = (index: number): void => {
      this.#send({ type: 'append-response', from: this.id, to: from, term: this.#term, reject: false, index, hintIndex: 0, hintTerm: 0 })
    }
    if (meta.index <= this.#log.committed) {
      reply(this.#log.committed)
      return false
    }
    if (this.#log.matchTerm(meta.index, meta.term)) {
      // We already hold the snapshot's last entry: everything before it matches (Log Matching).
      this.#log.commitTo(meta.index)
      reply(meta.index)
      return false
    }
    this.#log.restore(meta.index, meta.term)
    this.#applyBuffer = []
    this.#snapshot = meta
    this.#applyConfig(meta.config)
    this.#configChanges.push({ index: meta.index, config: meta.config })
    this.#pendingInstall = meta
    reply(meta.index)
    return true
  }

  reportSnapshot (to: NodeId, ok: boolean): void {
    const pr = this.#progress.get(to)
    if (pr === undefined || pr.state !== 'snapshot') return
    if (!ok) pr.pendingSnapshot = 0
    pr.becomeProbe()
    // Wait for the follower's answer (or a heartbeat) before probing again.
    pr.probeSent = true
  }

  reportUnreachable (to: NodeId): void {
    const pr = this.#progress.get(to)
    if (pr?.state === 'replicate') pr.becomeProbe()
  }

  snapshotTaken (point: CoreSnapshotPoint): void {
    if (point.index <= this.#snapshot.index) return
    if (point.index > this.#log.applied) throw new InvalidArgumentError(`snapshot index ${point.index} is beyond the applied index ${this.#log.applied}`, { field: 'index' })
    this.#snapshot = point
  }

  compact (index: number): number {
    if (index > this.#snapshot.index) throw new InvalidArgumentError(`cannot compact past the newest snapshot (${this.#snapshot.index})`, { field: 'index' })
    const term = this.#log.term(index)
    if (term === undefined) return this.#log.snapshotTerm
    this.#log.compact(index, term)
    return term
  }

  latestSnapshot (): CoreSnapshotPoint {
    return this.#snapshot
  }

  // ---------------------------------------------------------------- membership

  #applyConfig (config: ClusterConfig): void {
    this.#config = config
    this.#voters = { incoming: new Set(config.voters), outgoing: new Set(config.outgoingVoters ?? []) }
    const all = members(config)
    for (const id of [...this.#progress.keys()]) if (!all.has(id)) this.#progress.delete(id)
    for (const id of all) {
      const learner = !isVoter(config, id)
      const pr = this.#progress.get(id)
      if (pr === undefined) {
        const fresh = new Progress(this.#log.lastIndex() + 1, this.#cfg.maxInflightMessages, this.#cfg.maxInflightBytes, learner)
        fresh.recentActive = true
        if (id === this.id) fresh.match = this.#log.persisted
        this.#progress.set(id, fresh)
      } else {
        pr.isLearner = learner
      }
    }
    if (this.#role === 'leader') {
      if (!isVoter(config, this.id)) {
        // A leader removed from the voters steps down once the change is committed (dissertation §4.2.2).
        this.#becomeFollower(this.#term, undefined)
        return
      }
      if (this.#leadTransferee !== undefined && !isVoter(config, this.#leadTransferee)) this.#leadTransferee = undefined
      if (!this.#commitAndPropagate()) for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id, false)
    } else if (this.#role === 'follower' || this.#role === 'learner') {
      this.#role = this.#promotable() || config.voters.length === 0 ? 'follower' : 'learner'
    }
  }

  // ---------------------------------------------------------------- ready / advance

  #hardState (): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#log.committed }
  }

  #softState (): SoftState {
    return { role: this.#role, term: this.#term, leader: this.#leader }
  }

  #applyLimit (): number {
    return Math.min(this.#log.committed, this.#log.persisted)
  }

  hasReady (): boolean {
    const hard = this.#hardState()
    const soft = this.#softState()
    if (hard.term !== this.#prevHardState.term || hard.vote !== this.#prevHardState.vote || hard.commit !== this.#prevHardState.commit) return true
    if (soft.role !== this.#prevSoftState.role || soft.leader !== this.#prevSoftState.leader || soft.term !== this.#prevSoftState.term) return true
    if (this.#messages.length > 0 || this.#earlyMessages.length > 0 || this.#readStates.length > 0 || this.#failedReads.length > 0) return true
    if (this.#fetches.length > 0 || this.#snapshotSends.length > 0 || this.#pendingInstall !== undefined || this.#configChanges.length > 0) return true
    if (this.#log.lastIndex() > this.#log.persisted) return true
    const next = this.#log.applied + 1
    if (next <= this.#applyLimit()) {
      if (this.#applyBuffer.length > 0 || next >= this.#log.cacheOffset || !this.#applyFetchInFlight) return true
    }
    return false
  }

  ready (): Ready {
    const committedEntries = this.#takeCommitted()
    for (const entry of committedEntries) {
      if (entry.type === 'config') {
        const config = decodeConfig(entry.data)
        this.#applyConfig(config)
        this.#configChanges.push({ index: entry.index, config })
      }
    }
    // Dissertation §4.3: once the joint configuration is applied, the leader moves to the new one.
    if (this.#role === 'leader' && isJoint(this.#config) && this.#pendingConfigIndex <= this.#log.applied && this.#leadTransferee === undefined) {
      const position = this.#appendLeader([{ type: 'config', data: encodeConfig(leaveJoint(this.#config)) }], true)
      this.#pendingConfigIndex = position.index
    }

    const hard = this.#hardState()
    const soft = this.#softState()
    const hardChanged = hard.term !== this.#prevHardState.term || hard.vote !== this.#prevHardState.vote || hard.commit !== this.#prevHardState.commit
    const softChanged = soft.role !== this.#prevSoftState.role || soft.leader !== this.#prevSoftState.leader || soft.term !== this.#prevSoftState.term
    const ready: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      snapshot: this.#pendingInstall,
      entries: this.#log.unpersisted(),
      committedEntries,
      earlyMessages: this.#earlyMessages,
      messages: this.#messages,
      readStates: this.#readStates,
      failedReads: this.#failedReads,
      fetches: this.#fetches,
      snapshotSends: this.#snapshotSends,
      configChanges: this.#configChanges
    }
    this.#prevHardState = hard
    this.#prevSoftState = soft
    this.#pendingInstall = undefined
    this.#earlyMessages = []
    this.#messages = []
    this.#readStates = []
    this.#failedReads = []
    this.#fetches = []
    this.#snapshotSends = []
    this.#configChanges = []
    return ready
  }

  #takeCommitted (): LogEntry[] {
    const limit = this.#applyLimit()
    const from = this.#log.applied + 1
    if (from > limit) return []
    let out: LogEntry[] = []
    let bytes = 0
    const budget = this.#cfg.maxApplyBytesPerReady
    let next = from
    while (this.#applyBuffer.length > 0 && next <= limit) {
      const entry = this.#applyBuffer.shift()
      if (entry === undefined) break
      if (entry.index !== next) { this.#applyBuffer = []; break }
      out.push(entry)
      bytes += entrySize(entry)
      next++
      if (bytes >= budget) break
    }
    if (next <= limit && bytes < budget) {
      if (next >= this.#log.cacheOffset) {
        const slice = this.#log.cachedSlice(next, limit + 1, budget - bytes) ?? []
        if (out.length === 0) out = slice
        else for (const entry of slice) out.push(entry)
      } else if (this.#applyBuffer.length === 0 && !this.#applyFetchInFlight) {
        const id = this.#nextFetchId++
        this.#applyFetchInFlight = true
        this.#fetchPurposes.set(id, { kind: 'apply', from: next })
        this.#fetches.push({ id, from: next, to: Math.min(limit + 1, this.#log.cacheOffset), maxBytes: budget })
      }
    }
    const last = out.at(-1)
    if (last !== undefined) this.#log.applied = last.index
    return out
  }

  advance (ready: Ready): void {
    const last = ready.entries.at(-1)
    if (last !== undefined) this.#log.persistedTo(last.index, last.term)
    if (this.#role === 'leader') {
      const self = this.#progress.get(this.id)
      if (self !== undefined && self.maybeUpdate(this.#log.persisted)) this.#commitAndPropagate()
    }
    this.#log.evict(this.#cfg.maxCacheBytes)
  }

  // ---------------------------------------------------------------- status

  status (): CoreStatus {
    const progress: Record<NodeId, PeerStatus> = {}
    if (this.#role === 'leader') {
      for (const [id, pr] of this.#progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          paused: pr.isPaused(),
          inflightMessages: pr.inflights.count,
          inflightBytes: pr.inflights.bytes,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner
        }
      }
    }
    return {
      id: this.id,
      role: this.#role,
      term: this.#term,
      vote: this.#vote,
      leader: this.#leader,
      commitIndex: this.#log.committed,
      appliedIndex: this.#log.applied,
      persistedIndex: this.#log.persisted,
      firstIndex: this.#log.firstIndex(),
      lastIndex: this.#log.lastIndex(),
      config: this.#config,
      progress,
      leadTransferee: this.#leadTransferee,
      leaderChanges: this.#leaderChanges,
      uncommittedBytes: this.#uncommittedBytes,
      ticks: this.#ticks
    }
  }
}
