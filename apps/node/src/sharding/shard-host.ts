import {
  InvalidArgumentError, NotLeaderError, NotStartedError, TimeoutError,
  type AbortOptions, type Clock, type ClusterConfig, type Logger, type NodeId, type ProposeOptions, type Random, type Role, type Startable,
  type ReadBarrier, type ReplicatedLog, type StateMachine, type TimerHandle, type Transport
} from '@synod/interfaces'
import { createRaftNode, isWireMessage, type RaftNode, type RaftNodeInit, type RaftWireMessage } from '@synod/raft'
import { encodeCommand, type KvCommand, type KvResult } from '../kv/commands.js'
import { createKvStateMachine, type KvRecord, type KvStateMachine } from '../kv/state-machine.js'
import { createPausableClock, type PausableClock } from './group-clock.js'
import { createGroupMux, type GroupId, type GroupMux, type GroupMuxStats, type MuxEnvelope } from './group-mux.js'
import { NodeLiveness } from './liveness.js'
import {
  followerMayQuiesce, isQuiescenceMessage, leaderMayQuiesce, otherMembers, wakesQuiescedReplica,
  type QuiescenceMessage, type ShardMessage
} from './quiescence.js'
import {
  createMetadataStateMachine, encodeMetadataCommand, hostsAnything, LOCK_GROUP, METADATA_GROUP, moveMembers, samePlacement,
  type MetadataCommand, type MetadataNode, type MetadataResult, type MetadataState, type MetadataStateMachine
} from './metadata.js'
import {
  groupMembers, nextGroupAction, nextShardAction, nextWave, rebalanceStatus, staleMoves,
  type GroupMembers, type RebalanceStatus
} from './cluster-plan.js'
import type { RebalanceStep } from './rebalance-plan.js'
import { placeShards, shardOfKey, type ShardPlacement } from './shard-map.js'
import type { ShardStorageFactory } from './shard-storage.js'

/** A node of the cluster as the shard host sees it. */
export interface ShardNode {
  id: NodeId
  /** Its peer transport address (`ws://host:port`). */
  address: string
  /** Failure domain; replicas of a shard spread over zones first. */
  zone?: string | undefined
  /** Relative capacity for placement. @default 1 */
  weight?: number | undefined
  /** Its HTTP API base URL, published to clients in the shard map. */
  apiUrl?: string | undefined
  /** Its WebSocket client API URL, published to clients in the shard map. */
  wsUrl?: string | undefined
}

/**
 * What clients need to route: the members and every shard's replicas and leader. JSON-safe (served
 * as-is by `GET /v1/shards`).
 */
export interface ShardMapView {
  /** Metadata epoch this view was built from (grows with every change; 0 before the metadata group bootstrapped). */
  epoch: number
  shardCount: number
  nodes: Array<{ id: NodeId, address: string, zone?: string, apiUrl?: string, wsUrl?: string }>
  shards: Array<{
    shard: number
    /** Voters, in preference order. */
    replicas: NodeId[]
    /** This node's best knowledge of the leader: its own replica's view, else the last hint, else null. */
    leader: NodeId | null
    preferredLeader: NodeId
    /** A move of this shard is under way. */
    moving: boolean
  }>
}

/** Raft tuning applied to every shard (ids, bootstrap and timing come from the host). */
export type ShardRaftTuning = Omit<RaftNodeInit, 'id' | 'bootstrap' | 'tickMs' | 'electionTicks' | 'forwardProposals'>

/** Options of `createShardHost`. */
export interface ShardHostInit {
  nodeId: NodeId
  /**
   * Every node of the cluster, this one included; every founding node must be given the same list
   * (its order is the join order: the first `metadataVoters` are the metadata group's voters). With
   * `join`, the peers to reach and this node.
   */
  nodes: readonly ShardNode[]
  /** Shards the key space is split into; fixed for the cluster's life. @default 64 */
  shardCount?: number
  /** Voters per shard. @default 3 */
  replicationFactor?: number
  /** Spread each shard's replicas over zones. @default true when any node names a zone */
  spreadZones?: boolean
  /**
   * The cluster's current placement, when it differs from what `nodes` alone gives (a node that
   * joins a running cluster hosts nothing until replicas move to it). @default placeShards(nodes)
   */
  placement?: readonly ShardPlacement[]
  /** Run the metadata group (membership and placement agreed by Raft) beside the shards. @default true */
  metadata?: boolean
  /**
   * How many members are the metadata (and lock) group's voters: the first ones in join order (at
   * founding, the first of `nodes`); the others are its learners. @default 3
   */
  metadataVoters?: number
  /**
   * Join a running cluster: no bootstrap, no shards at start; `nodes` are only peers to reach (this
   * node must be in it with its own address). The host opens empty replicas of the metadata group
   * (and lock group), which the metadata leader adds it to once `addMember` was called for it on a
   * member. The shard count comes from the metadata group. @default false
   */
  join?: boolean
  /**
   * A second small Raft group (`LOCK_GROUP`, id -2) with the metadata group's voters and learners,
   * running this state machine (the node's lock service). It never quiesces, so lease reads and
   * session timers on it keep real time. @default none
   */
  lockGroup?: { stateMachine: StateMachine<unknown> }
  /** Rebalance throttle: moves a node takes part in at once (receiving or giving up a replica). @default 1 */
  maxMovesPerNode?: number
  /**
   * Follow the metadata group: its leader admits and drains members and releases moves, shard
   * leaders carry moves out, and every host opens and drops replicas as the placement says. Off,
   * the placement changes only through `runRebalance` (one process) or `updatePlacement`. @default true
   */
  autoRebalance?: boolean
  /** Raft tick of every shard, in ms. @default 100 */
  tickMs?: number
  /** Election timeout in ticks. @default 10 */
  electionTicks?: number
  /**
   * A follower forwards writes and ReadIndex requests to its shard's leader (one hop); when false it
   * rejects them with ERR_NOT_LEADER and the leader's id as `leaderHint`. @default true
   */
  forwardToLeader?: boolean
  /** Stop ticking idle shards (see `quiescence.ts`). @default true */
  quiesce?: boolean
  /** Host ticks a leader must have been idle, at the same log position, before it quiesces. @default 3 */
  quiesceAfterTicks?: number
  /** Node-level heartbeat interval per peer, sent only when nothing else went to that peer. @default 250 */
  heartbeatIntervalMs?: number
  /** A peer silent this long is presumed dead, and every shard it belongs to wakes. @default the election timeout (electionTicks × tickMs) */
  livenessTimeoutMs?: number
  /**
   * Raft tuning per shard. Defaults differ from a single-group node's where they scale with the
   * shard count: `maxCacheBytes` 4 MiB (per shard). @default {}
   */
  raft?: ShardRaftTuning
}

/** What a shard host is built from. */
export interface ShardHostComponents {
  /** One transport for all shards; the host puts a group mux on it and starts and stops it. */
  transport: Transport<MuxEnvelope<ShardMessage>>
  storage: ShardStorageFactory
  clock: Clock
  random?: Random
  logger?: Logger
}

/** A shard replica hosted here. */
export interface ShardReplica {
  readonly shard: GroupId
  readonly placement: ShardPlacement
  readonly raft: RaftNode<KvResult>
  readonly kv: KvStateMachine
  readonly quiesced: boolean
}

/** One line of the host's status. */
export interface ShardStatus {
  shard: GroupId
  role: Role
  term: number
  leader: NodeId | undefined
  commitIndex: number
  appliedIndex: number
  quiesced: boolean
  replicas: NodeId[]
  preferredLeader: NodeId
}

/** Counters of a shard host. */
export interface ShardHostStats {
  shards: number
  awake: number
  quiesced: number
  /** Whether this node's replica of the metadata group is awake (undefined: it runs none). */
  metadataAwake: boolean | undefined
  /** Times a replica here quiesced / woke since start. */
  quiesces: number
  wakes: number
  /** Peers this node keeps track of (node heartbeats, liveness): the cluster's other members. */
  peers: NodeId[]
  /** Peers currently presumed dead. */
  deadPeers: NodeId[]
  mux: GroupMuxStats
}

/** Options of a KV read through the host. */
export interface ShardReadOptions extends AbortOptions {
  /**
   * `linearizable` confirms a ReadIndex with the shard's leader (leases are never used: a quiesced
   * group's clock stands still, so a lease could not be trusted); `serializable` reads the local
   * replica as it is. @default 'linearizable'
   */
  consistency?: 'linearizable' | 'serializable'
  timeoutMs?: number
}

/**
 * Many Raft groups (shards) on one node: the key space is split by hash, `@synod/ring` places each
 * shard's replicas, all shards share one transport through a group mux, and idle shards quiesce.
 */
export interface ShardHost extends Startable {
  readonly nodeId: NodeId
  readonly shardCount: number
  shardOf(key: string): GroupId
  /** A copy of the placement this host routes by. */
  placement(): readonly ShardPlacement[]
  replica(shard: GroupId): ShardReplica | undefined
  /** Runs a KV write on its shard. ERR_NOT_LEADER (with `leaderHint`) when this node does not host the shard. */
  write(command: KvCommand, options?: ProposeOptions): Promise<KvResult>
  get(key: string, options?: ShardReadOptions): Promise<KvRecord | undefined>
  /**
   * Confirms a linearizable read point on a shard hosted here (ReadIndex through its leader; the
   * local replica has applied it when this resolves). ERR_NOT_LEADER when this node does not host it.
   */
  readBarrier(shard: GroupId, options?: ShardReadOptions): Promise<ReadBarrier>
  /** This node's view of the metadata group's state (undefined when the host runs none). */
  metadata(): MetadataState | undefined
  /** Proposes a change to the metadata group (membership, a shard's placement). */
  proposeMetadata(command: MetadataCommand, options?: ProposeOptions): Promise<MetadataResult>
  /** The lock group's replica here (a RaftNode is a ReplicatedLog); undefined without `lockGroup`. */
  lockLog(): ReplicatedLog<unknown> | undefined
  /** The metadata group's replica here (for status pages and tests); undefined when the host runs none. */
  metadataLog(): RaftNode<MetadataResult> | undefined
  /** What clients need to route, from this node's view of the metadata group. */
  shardMap(): ShardMapView
  /**
   * Admits a node: recorded in the metadata group; the metadata leader then adds it to the metadata
   * and lock groups and rebalances shards onto it. Resolves once recorded. Idempotent. Call it on a
   * member (a joining node's own metadata replica knows no leader yet).
   */
  addMember(node: MetadataNode, options?: ProposeOptions): Promise<MetadataResult>
  /**
   * Starts draining a node: the metadata leader moves every replica off it, then removes it from
   * the metadata and lock groups and the member list. Resolves once recorded, not when done. Idempotent.
   */
  removeMember(id: NodeId, options?: ProposeOptions): Promise<MetadataResult>
  /** Progress of rebalancing as this node sees it (from the metadata group). */
  rebalanceStatus(): RebalanceStatus
  /** Makes `node` known (address for Raft, node-level heartbeats and liveness). */
  addNode(node: ShardNode): void
  /**
   * Creates and starts an empty replica of a shard this node does not host yet, with no
   * configuration of its own: it waits for the shard's leader to add it (as a learner).
   */
  joinShard(placement: ShardPlacement): Promise<void>
  /** Stops and forgets this node's replica of `shard` (after the shard removed it) and deletes its data. */
  leaveShard(shard: GroupId): Promise<void>
  /** Records a shard's new placement (routing hints and preferred leader). */
  updatePlacement(placement: ShardPlacement): void
  /**
   * Runs one rebalancing step on this node's replica of the step's shard, which must lead it
   * (ERR_NOT_LEADER with the leader as hint otherwise). `await-catch-up` resolves once the
   * learner's match index reaches the commit index the leader had when the step began.
   */
  executeStep(step: RebalanceStep, options?: { timeoutMs?: number } & AbortOptions): Promise<void>
  /** Moves leadership of shards led here to their preferred leaders (at most `maxTransfers`); resolves with the number moved. */
  balanceLeaders(options?: { maxTransfers?: number } & AbortOptions): Promise<number>
  status(): ShardStatus[]
  stats(): ShardHostStats
}

function inConfig (config: ClusterConfig, id: NodeId): boolean {
  return config.voters.includes(id) || config.learners.includes(id) || config.outgoingVoters?.includes(id) === true
}

export function createShardHost (init: ShardHostInit, components: ShardHostComponents): ShardHost {
  return new ShardHostImpl(init, components)
}

/** A replica of any group hosted here: a shard, or the metadata group. */
interface Member {
  readonly shard: GroupId
  readonly destroy: (() => Promise<void>) | undefined
  placement: ShardPlacement
  readonly raft: RaftNode<unknown>
  readonly clock: PausableClock
  readonly view: Transport<ShardMessage>
  /** False for groups that must keep real time (the lock group): they never quiesce. */
  readonly mayQuiesce: boolean
  quiesced: boolean
  /** Host-level operations in flight: a busy shard never quiesces. */
  busy: number
  /** Rejecters of the reads waiting on this replica, called when it is dropped or stopped. */
  readonly reads: Set<(error: Error) => void>
  idleTicks: number
  idleAtIndex: number
}

interface Replica extends Member, ShardReplica {
  placement: ShardPlacement
  quiesced: boolean
  readonly raft: RaftNode<KvResult>
}

/** Longest wait for one rebalancing step (a learner to catch up, a change to commit) before it is retried. */
const STEP_TIMEOUT_MS = 30_000

class ShardHostImpl implements ShardHost {
  readonly nodeId: NodeId
  #shardCount: number
  readonly #init: ShardHostInit
  /** Started without a bootstrap: joining a running cluster (`join`, or an explicit `placement`). */
  readonly #joining: boolean
  readonly #autoRebalance: boolean
  readonly #maxMovesPerNode: number
  readonly #metadataVoters: number
  readonly #c: ShardHostComponents
  readonly #logger: Logger | undefined
  readonly #tickMs: number
  readonly #electionTicks: number
  readonly #quiesce: boolean
  readonly #quiesceAfterTicks: number
  readonly #heartbeatIntervalMs: number
  readonly #placement: ShardPlacement[]
  readonly #addresses = new Map<NodeId, string>()
  readonly #mux: GroupMux<ShardMessage>
  readonly #liveness: NodeLiveness
  readonly #replicas = new Map<GroupId, Replica>()
  readonly #awake = new Set<Member>()
  #metadata: { member: Member, machine: MetadataStateMachine } | undefined
  #lock: Member | undefined
  // Rebalancing work in flight (one of each kind at a time; retried on later ticks).
  #coordinating = false
  #reconcilingLock = false
  /** Shard moves this node drives as the shard's leader, each with a way to stop it when the move's target changes. */
  readonly #drivenShards = new Map<GroupId, { target: ShardPlacement, stop: AbortController }>()
  #reconcilingLocal = false
  #localDirty = true
  #ticks = 0
  /** Drained nodes about to leave the metadata group: when they had caught up (see `#removalReady`). */
  readonly #removalGates = new Map<NodeId, { index: number, caughtUpAt: number | undefined }>()
  #metadataEpochSeen = 0
  /** The members of the last metadata state applied here. */
  #metadataMembers = new Set<NodeId>()
  readonly #lastSentTo = new Map<NodeId, number>()
  #timer: TimerHandle = undefined
  #started = false
  #quiesces = 0
  #wakes = 0
  readonly #unsubscribe: Array<() => void> = []

  constructor (init: ShardHostInit, components: ShardHostComponents) {
    this.nodeId = init.nodeId
    this.#init = init
    this.#c = components
    this.#logger = components.logger?.child({ component: 'shards' })
    this.#joining = (init.join ?? false) || init.placement !== undefined
    // A joining node learns the shard count from the metadata group (unless given a placement).
    this.#shardCount = init.placement?.length ?? init.shardCount ?? 64
    if (init.join === true && init.placement === undefined) this.#shardCount = 0
    this.#autoRebalance = init.autoRebalance ?? true
    this.#maxMovesPerNode = init.maxMovesPerNode ?? 1
    if (!Number.isSafeInteger(this.#maxMovesPerNode) || this.#maxMovesPerNode < 1) {
      throw new InvalidArgumentError('maxMovesPerNode must be a positive integer', { field: 'maxMovesPerNode' })
    }
    this.#metadataVoters = init.metadataVoters ?? 3
    this.#tickMs = init.tickMs ?? 100
    this.#electionTicks = init.electionTicks ?? 10
    this.#quiesce = init.quiesce ?? true
    this.#quiesceAfterTicks = init.quiesceAfterTicks ?? 3
    this.#heartbeatIntervalMs = init.heartbeatIntervalMs ?? 250
    for (const node of init.nodes) this.#addresses.set(node.id, node.address)
    if (!this.#addresses.has(init.nodeId)) throw new InvalidArgumentError(`node ${init.nodeId} is not in the node list`, { field: 'nodes' })
    if (init.placement !== undefined && init.placement.some((placement, shard) => placement.shard !== shard)) {
      throw new InvalidArgumentError('placement must list shards 0..n-1 in order', { field: 'placement' })
    }
    this.#placement = init.placement !== undefined ? [...init.placement] : this.#shardCount === 0 ? [] : placeShards({
      nodes: init.nodes.map((node) => ({ id: node.id, zone: node.zone, weight: node.weight })),
      shardCount: this.#shardCount,
      replicationFactor: init.replicationFactor,
      spreadZones: init.spreadZones
    })
    this.#mux = createGroupMux<ShardMessage>(components.transport, {
      isMessage: (message): message is ShardMessage => isWireMessage(message) || isQuiescenceMessage(message),
      onUnknownGroup: (group, from, message) => { this.#answerForGoneReplica(group, from, message) }
    })
    this.#liveness = new NodeLiveness(init.livenessTimeoutMs ?? this.#electionTicks * this.#tickMs)
  }

  get shardCount (): number {
    return this.#shardCount
  }

  // ------------------------------------------------------------------ lifecycle

  async start (): Promise<void> {
    if (this.#started) return
    const now = this.#c.clock.now()
    this.#unsubscribe.push(this.#mux.onEnvelope((from) => { this.#liveness.heard(from, this.#c.clock.now()) }))
    this.#unsubscribe.push(this.#mux.onFlush((to) => { this.#lastSentTo.set(to, this.#c.clock.now()) }))
    await this.#mux.start()
    for (const [id, address] of this.#addresses) {
      if (id === this.nodeId) continue
      this.#mux.addPeer(id, address)
      this.#liveness.track(id, now)
    }
    const local = this.#placement.filter((placement) => placement.replicas.includes(this.nodeId))
    for (const placement of local) this.#replicas.set(placement.shard, this.#createReplica(placement))
    if (this.#init.metadata ?? true) this.#metadata = this.#createMetadataMember()
    if (this.#init.lockGroup !== undefined) this.#lock = this.#createSmallGroup(LOCK_GROUP, this.#init.lockGroup.stateMachine, false)
    // Storage start-up is I/O bound: open shards a batch at a time rather than one by one.
    const replicas: Member[] = [...this.#members()]
    for (let i = 0; i < replicas.length; i += 64) {
      await Promise.all(replicas.slice(i, i + 64).map(async (replica) => { await replica.raft.start() }))
    }
    this.#started = true
    this.#scheduleTick()
    if (this.#metadata !== undefined) void this.#bootstrapMetadata(this.#metadata)
    this.#logger?.info({ shards: this.#replicas.size, shardCount: this.shardCount }, 'shard host started')
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#timer !== undefined) this.#c.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    // Moves this node was driving stop waiting (another leader takes them over).
    for (const driven of this.#drivenShards.values()) driven.stop.abort()
    for (const member of this.#members()) this.#abandonReads(member)
    await Promise.all([...this.#members()].map(async (replica) => { await replica.raft.stop() }))
    this.#replicas.clear()
    this.#metadata = undefined
    this.#lock = undefined
    this.#awake.clear()
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await this.#mux.stop()
  }

  #createReplica (placement: ShardPlacement, join = false): Replica {
    const kv = createKvStateMachine()
    const member = this.#createMember<KvResult>(placement, [], kv, join)
    return Object.assign(member, { kv })
  }

  #createMember<Result> (placement: ShardPlacement, learners: NodeId[], stateMachine: StateMachine<Result>, join: boolean, mayQuiesce = true): Member & { raft: RaftNode<Result> } {
    const shard = placement.shard
    const clock = createPausableClock(this.#c.clock)
    const view = this.#mux.group(shard)
    const storage = this.#c.storage(shard)
    const addresses: Record<NodeId, string> = {}
    for (const id of [...placement.replicas, ...learners]) addresses[id] = this.#addresses.get(id) as string
    const raft = createRaftNode<Result>({
      maxCacheBytes: 4 * 1024 * 1024,
      ...this.#init.raft,
      id: this.nodeId,
      bootstrap: join ? undefined : { voters: [...placement.replicas], learners: [...learners], addresses },
      tickMs: this.#tickMs,
      electionTicks: this.#electionTicks,
      forwardProposals: this.#init.forwardToLeader ?? true
    }, {
      // The view also carries quiescence messages; Raft's own guard ignores them.
      transport: view as Transport<RaftWireMessage>,
      log: storage.log,
      hardState: storage.hardState,
      snapshots: storage.snapshots,
      stateMachine,
      clock,
      random: this.#c.random,
      logger: this.#logger?.child({ shard })
    })
    const replica = { shard, destroy: storage.destroy, placement, raft, clock, view, mayQuiesce, quiesced: false, busy: 0, reads: new Set<(error: Error) => void>(), idleTicks: 0, idleAtIndex: -1 }
    // Registered before Raft's own handler (Raft registers in start()), so a quiesced replica
    // wakes before Raft steps the message.
    view.onMessage((from, message) => { this.#onShardMessage(replica, from, message) })
    this.#awake.add(replica)
    return replica
  }

  * #members (): Iterable<Member> {
    yield * this.#replicas.values()
    if (this.#metadata !== undefined) yield this.#metadata.member
    if (this.#lock !== undefined) yield this.#lock
  }

  // ------------------------------------------------------------------ the metadata group

  /**
   * The metadata group: voters on the first `metadataVoters` nodes of the node list, learners on
   * the others, so every node holds the agreed membership and placement locally. A joining node
   * opens it empty, to be added by the metadata leader once `addMember` recorded it.
   */
  #createMetadataMember (): { member: Member, machine: MetadataStateMachine } {
    const machine = createMetadataStateMachine()
    const member = this.#createSmallGroup<MetadataResult>(METADATA_GROUP, machine, true)
    member.raft.addEventListener('applied', () => { this.#onMetadataApplied(machine) })
    return { member, machine }
  }

  /** A group on the metadata group's founding members (voters first in the node list, the others learners). */
  #createSmallGroup<Result> (group: GroupId, machine: StateMachine<Result>, mayQuiesce: boolean): Member {
    const ids = this.#init.nodes.map((node) => node.id)
    const voters = ids.slice(0, this.#metadataVoters)
    const learners = ids.filter((id) => !voters.includes(id))
    const placement: ShardPlacement = { shard: group, replicas: voters, preferredLeader: voters[0] as NodeId }
    return this.#createMember<Result>(placement, learners, machine, this.#joining, mayQuiesce)
  }

  /** Every founding voter proposes the same bootstrap; the state machine keeps the first. */
  async #bootstrapMetadata (metadata: { member: Member, machine: MetadataStateMachine }): Promise<void> {
    if (this.#joining || !metadata.member.placement.replicas.includes(this.nodeId)) return
    const command: MetadataCommand = {
      op: 'bootstrap',
      nodes: this.#init.nodes.map((node) => ({ id: node.id, address: node.address, zone: node.zone, weight: node.weight, apiUrl: node.apiUrl, wsUrl: node.wsUrl })),
      shardCount: this.#shardCount,
      replicationFactor: this.#init.replicationFactor ?? 3
    }
    while (this.#started && this.#metadata === metadata && metadata.machine.state().epoch === 0) {
      try {
        await this.proposeMetadata(command)
      } catch {
        await new Promise<void>((resolve) => { this.#c.clock.setTimeout(resolve, this.#tickMs) })
      }
    }
  }

  #onMetadataApplied (machine: MetadataStateMachine): void {
    const state = machine.state()
    if (state.epoch <= this.#metadataEpochSeen) return
    this.#metadataEpochSeen = state.epoch
    if (this.#shardCount === 0 && state.shardCount > 0) this.#shardCount = state.shardCount
    for (const node of state.nodes) if (this.#addresses.get(node.id) !== node.address) this.addNode(node)
    // Members that left (drained and forgotten by the metadata group) are forgotten here too.
    for (const id of this.#metadataMembers) if (!state.nodes.some((node) => node.id === id)) this.#forgetNode(id)
    this.#metadataMembers = new Set(state.nodes.map((node) => node.id))
    this.#localDirty = true
    for (const placement of state.placement) {
      const current = this.#placement[placement.shard]
      if (current === undefined || current.preferredLeader !== placement.preferredLeader || current.replicas.join() !== placement.replicas.join()) this.updatePlacement(placement)
    }
  }

  metadata (): MetadataState | undefined {
    return this.#metadata?.machine.state()
  }

  async proposeMetadata (command: MetadataCommand, options?: ProposeOptions): Promise<MetadataResult> {
    if (!this.#started) throw new NotStartedError('shard host is not started')
    const member = this.#metadata?.member
    if (member === undefined) throw new NotStartedError('this host runs no metadata group')
    member.busy++
    this.#wake(member, 'local')
    try {
      return (await member.raft.propose(encodeMetadataCommand(command), options)).result as MetadataResult
    } finally {
      member.busy--
    }
  }

  // ------------------------------------------------------------------ members and the shard map

  lockLog (): ReplicatedLog<unknown> | undefined {
    return this.#lock?.raft
  }

  metadataLog (): RaftNode<MetadataResult> | undefined {
    return this.#metadata?.member.raft as RaftNode<MetadataResult> | undefined
  }

  async addMember (node: MetadataNode, options?: ProposeOptions): Promise<MetadataResult> {
    const { id, address, zone, weight, apiUrl, wsUrl } = node
    return await this.proposeMetadata({ op: 'add-node', node: { id, address, zone, weight, apiUrl, wsUrl } }, options)
  }

  async removeMember (id: NodeId, options?: ProposeOptions): Promise<MetadataResult> {
    return await this.proposeMetadata({ op: 'drain-node', id }, options)
  }

  rebalanceStatus (): RebalanceStatus {
    return rebalanceStatus(this.#metadata?.machine.state())
  }

  shardMap (): ShardMapView {
    const state = this.#metadata?.machine.state()
    const known = state !== undefined && state.epoch > 0
    const nodes = (known ? state.nodes : this.#init.nodes).map((node) => {
      const view: ShardMapView['nodes'][number] = { id: node.id, address: node.address }
      if (node.zone !== undefined) view.zone = node.zone
      if (node.apiUrl !== undefined) view.apiUrl = node.apiUrl
      if (node.wsUrl !== undefined) view.wsUrl = node.wsUrl
      return view
    })
    const moving = new Set(known ? state.moves.map((move) => move.shard) : [])
    const placement = known ? state.placement : this.#placement
    return {
      epoch: known ? state.epoch : 0,
      shardCount: placement.length,
      nodes,
      shards: placement.map((p) => ({
        shard: p.shard,
        replicas: [...p.replicas],
        leader: this.#replicas.get(p.shard)?.raft.status().leader ?? null,
        preferredLeader: p.preferredLeader,
        moving: moving.has(p.shard)
      }))
    }
  }

  // ------------------------------------------------------------------ driving membership and moves

  /**
   * Runs on every host tick. Each duty belongs to the leader of one group, read from replicated
   * state only, so hosts in different processes never call each other: the metadata leader admits
   * and removes members of the small groups and releases waves of moves; the lock leader makes its
   * group's members follow; each shard's leader carries out its shard's move and records it done;
   * every host opens and drops its own replicas as the metadata says. A failed duty is retried on a
   * later tick, by whoever leads then.
   */
  #drive (): void {
    const metadata = this.#metadata
    const state = metadata?.machine.state()
    if (metadata === undefined || state === undefined || state.epoch === 0) return
    this.#ticks++
    if (!this.#coordinating && metadata.member.raft.isLeader()) {
      this.#coordinating = true
      void this.#duty('coordinate', async () => { await this.#coordinate(metadata.member, state) }).finally(() => { this.#coordinating = false })
    }
    const lock = this.#lock
    if (lock !== undefined && !this.#reconcilingLock && lock.raft.isLeader()) {
      this.#reconcilingLock = true
      void this.#duty('lock group members', async () => { await this.#reconcileGroup(lock, state) }).finally(() => { this.#reconcilingLock = false })
    }
    for (const [shard, driven] of this.#drivenShards) {
      // A move retargeted (or finished by another leader) stops waiting for its old target now.
      if (!samePlacement(driven.target, state.moves.find((move) => move.shard === shard))) driven.stop.abort()
    }
    for (const target of state.moves) {
      const replica = this.#replicas.get(target.shard)
      if (replica === undefined || this.#drivenShards.has(target.shard) || !replica.raft.isLeader()) continue
      const driven = { target, stop: new AbortController() }
      this.#drivenShards.set(target.shard, driven)
      void this.#duty(`move of shard ${target.shard}`, async () => { await this.#driveMove(replica, target, driven.stop.signal) })
        .finally(() => { this.#drivenShards.delete(target.shard) })
    }
    // Replicas follow the metadata when it changes, and every few seconds in case an open or drop failed.
    if (!this.#reconcilingLocal && (this.#localDirty || this.#ticks % 50 === 0)) {
      this.#reconcilingLocal = true
      this.#localDirty = false
      void this.#duty('local replicas', async () => { await this.#reconcileLocal() }).finally(() => { this.#reconcilingLocal = false })
    }
  }

  /** Runs a duty; on failure (an election, a change still pending, a timeout) logs it and pauses a little before it may run again. */
  async #duty (what: string, run: () => Promise<void>): Promise<void> {
    try {
      await run()
    } catch (error) {
      if (!this.#started) return
      this.#logger?.debug({ error, what }, 'rebalancing duty failed; retrying')
      await new Promise<void>((resolve) => { this.#c.clock.setTimeout(resolve, this.#electionTicks * this.#tickMs / 2) })
    }
  }

  /** The metadata leader's duty: one change per round, members of the metadata group first, then drained nodes, then the next wave. */
  async #coordinate (member: Member, state: MetadataState): Promise<void> {
    // A leader that has not applied everything committed would plan from an old view.
    const status = member.raft.status()
    if (status.appliedIndex < status.commitIndex) return
    if (await this.#reconcileGroup(member, state)) return
    const lockConfig = this.#lock?.raft.status().config
    for (const id of state.draining) {
      if (hostsAnything(state, id) || inConfig(member.raft.status().config, id) || (lockConfig !== undefined && inConfig(lockConfig, id))) continue
      await this.proposeMetadata({ op: 'remove-node', id })
      return
    }
    for (const gate of this.#removalGates.keys()) if (!state.draining.includes(gate)) this.#removalGates.delete(gate)
    const stale = staleMoves(state)[0]
    if (stale !== undefined) {
      const result = await this.proposeMetadata({ op: 'retarget-move', placement: stale, expectedEpoch: state.epoch })
      if (result.ok) this.#logger?.info({ shard: stale.shard, replicas: stale.replicas }, 'retargeted a move away from a removed node')
      return
    }
    const targets = nextWave(state, this.#maxMovesPerNode)
    if (targets.length > 0) {
      const result = await this.proposeMetadata({ op: 'start-moves', targets, expectedEpoch: state.epoch })
      if (result.ok) this.#logger?.info({ shards: targets.map((target) => target.shard), epoch: result.epoch }, 'released a wave of shard moves')
    }
  }

  /**
   * Makes one change that brings a small group (metadata or lock) toward the members the metadata
   * state wants; resolves true if there was one to make (or one is waiting), false if the group is
   * as wanted. This host must lead the group.
   */
  async #reconcileGroup (member: Member, state: MetadataState): Promise<boolean> {
    const status = member.raft.status()
    if (status.role !== 'leader') return false
    const wanted: GroupMembers = groupMembers(state, this.#metadataVoters)
    const action = nextGroupAction(status.config, wanted, this.nodeId)
    if (action === undefined) return false
    if (action.kind === 'remove' && member === this.#metadata?.member && !this.#removalReady(member, action.node)) return true
    await this.#withBusy(member, async () => {
      switch (action.kind) {
        case 'add-learner': {
          const address = state.nodes.find((node) => node.id === action.node)?.address ?? this.#addresses.get(action.node)
          if (address === undefined) throw new InvalidArgumentError(`no address for node ${action.node}`, { field: 'node' })
          await member.raft.changeMembership({ type: 'add-learner', id: action.node, address })
          break
        }
        case 'promote':
          await this.#awaitCatchUp(member, action.node, status.commitIndex, { timeoutMs: STEP_TIMEOUT_MS })
          await member.raft.changeMembership({ type: 'promote', id: action.node })
          break
        case 'remove': await member.raft.changeMembership({ type: 'remove', id: action.node }); break
        case 'transfer-leadership': await member.raft.transferLeadership(action.to); break
      }
    })
    this.#logger?.info({ group: member.shard, ...action }, 'changed a group\'s members')
    return true
  }

  /**
   * A drained node leaves the metadata group only once it holds every entry up to the one that
   * emptied it, plus an election timeout for the commit index to reach it: once removed, it hears
   * nothing more, and it must have applied the moves off it to drop its last replicas.
   */
  #removalReady (member: Member, node: NodeId): boolean {
    // A node presumed dead cannot be waited for; if it comes back, its leftover replicas belong to no group.
    if (!this.#liveness.isLive(node)) return true
    const status = member.raft.status()
    const now = this.#c.clock.now()
    let gate = this.#removalGates.get(node)
    if (gate === undefined) {
      gate = { index: status.commitIndex, caughtUpAt: undefined }
      this.#removalGates.set(node, gate)
    }
    if (gate.caughtUpAt === undefined) {
      if ((status.progress[node]?.match ?? 0) < gate.index) return false
      gate.caughtUpAt = now
    }
    if (now - gate.caughtUpAt < this.#electionTicks * this.#tickMs) return false
    this.#removalGates.delete(node)
    return true
  }

  /**
   * A shard leader's duty: carry its shard's move out step by step (each step decided afresh from
   * the group's configuration, so a new leader continues where the old one stopped), then record
   * it finished in the metadata group.
   */
  async #driveMove (replica: Replica, target: ShardPlacement, signal: AbortSignal): Promise<void> {
    const shard = target.shard
    const current = (): boolean => this.#started && !signal.aborted && this.#replicas.get(shard) === replica && replica.raft.isLeader() &&
      samePlacement(this.#metadata?.machine.state().moves.find((move) => move.shard === shard), target)
    const options = { timeoutMs: STEP_TIMEOUT_MS, signal }
    for (let steps = 0; steps < 16 && current(); steps++) {
      const action = nextShardAction(replica.raft.status().config, target, this.nodeId)
      if (action.kind === 'wait') return
      if (action.kind === 'step') {
        if (action.step.kind === 'promote') await this.executeStep({ kind: 'await-catch-up', shard, node: action.step.node }, options)
        await this.executeStep(action.step, options)
        this.#logger?.debug({ shard, step: action.step }, 'shard move step done')
        if (action.step.kind === 'transfer-leadership') return
        continue
      }
      // The configuration read above may be a predecessor's uncommitted entry: a read barrier
      // commits this term's first entry, and with it everything before.
      await this.#withBusy(replica, async () => { await replica.raft.readBarrier({ mode: 'read-index', signal }) })
      if (!current() || nextShardAction(replica.raft.status().config, target, this.nodeId).kind !== 'finish') continue
      if (action.transferTo !== undefined && this.#liveness.isLive(action.transferTo)) {
        // Best effort: a preferred leader that cannot take over now gets it from balanceLeaders later.
        await this.executeStep({ kind: 'transfer-leadership', shard, to: action.transferTo }, options).catch(() => {})
      }
      const result = await this.proposeMetadata({ op: 'finish-move', placement: target })
      if (result.ok) this.#logger?.info({ shard, replicas: target.replicas, epoch: result.epoch }, 'shard move finished')
      return
    }
  }

  /**
   * Every host's duty: host exactly the shards the metadata names this node for (in the recorded
   * placement or a move's target). A replica opens empty and waits for the shard's leader to add
   * it; one is dropped only once the placement no longer names it, which the shard's leader
   * records only after the group's configuration left it out.
   */
  async #reconcileLocal (): Promise<void> {
    const state = this.#metadata?.machine.state()
    if (state === undefined || state.epoch === 0) return
    const moves = new Map(state.moves.map((move) => [move.shard, move]))
    for (const placement of state.placement) {
      const move = moves.get(placement.shard)
      const wanted = placement.replicas.includes(this.nodeId) || (move !== undefined && moveMembers(move).includes(this.nodeId))
      const hosted = this.#replicas.has(placement.shard)
      if (wanted && !hosted) {
        await this.joinShard(move ?? placement)
        this.#logger?.info({ shard: placement.shard }, 'opened a replica to receive a shard')
      } else if (!wanted && hosted) {
        await this.leaveShard(placement.shard)
        this.#logger?.info({ shard: placement.shard }, 'dropped a replica that moved away')
      }
    }
  }

  async #withBusy<T> (member: Member, run: () => Promise<T>): Promise<T> {
    member.busy++
    this.#wake(member, 'local')
    try {
      return await run()
    } finally {
      member.busy--
    }
  }

  // ------------------------------------------------------------------ moving replicas

  addNode (node: ShardNode): void {
    const known = this.#addresses.get(node.id)
    this.#addresses.set(node.id, node.address)
    if (node.id === this.nodeId || known === node.address) return
    // One node-level reference per peer: a new address replaces the old one.
    if (known !== undefined && this.#started) this.#mux.removePeer(node.id)
    this.#mux.addPeer(node.id, node.address)
    this.#liveness.track(node.id, this.#c.clock.now())
  }

  /** Forgets a node that left the cluster: no more node heartbeats to it, no liveness verdicts about it. */
  #forgetNode (id: NodeId): void {
    if (id === this.nodeId || !this.#addresses.delete(id)) return
    this.#mux.removePeer(id)
    this.#liveness.untrack(id)
    this.#lastSentTo.delete(id)
    this.#logger?.info({ peer: id }, 'forgot a node that left the cluster')
  }

  async joinShard (placement: ShardPlacement): Promise<void> {
    if (!this.#started) throw new NotStartedError('shard host is not started')
    if (this.#replicas.has(placement.shard)) return
    const replica = this.#createReplica(placement, true)
    this.#replicas.set(placement.shard, replica)
    this.#placement[placement.shard] = placement
    await replica.raft.start()
  }

  async leaveShard (shard: GroupId): Promise<void> {
    const replica = this.#replicas.get(shard)
    if (replica === undefined) return
    this.#replicas.delete(shard)
    this.#awake.delete(replica)
    this.#abandonReads(replica)
    await replica.raft.stop()
    this.#mux.closeGroup(shard)
    await replica.destroy?.()
  }

  updatePlacement (placement: ShardPlacement): void {
    this.#placement[placement.shard] = placement
    const replica = this.#replicas.get(placement.shard)
    if (replica !== undefined) replica.placement = placement
  }

  async executeStep (step: RebalanceStep, options: { timeoutMs?: number } & AbortOptions = {}): Promise<void> {
    const replica = this.#local(step.shard)
    const status = replica.raft.status()
    if (status.role !== 'leader') throw new NotLeaderError(`${this.nodeId} does not lead shard ${step.shard}`, { leaderHint: status.leader, term: status.term })
    replica.busy++
    this.#wake(replica, 'local')
    try {
      switch (step.kind) {
        case 'add-learner': {
          const address = this.#addresses.get(step.node)
          if (address === undefined) throw new InvalidArgumentError(`no address for node ${step.node}`, { field: 'node' })
          await replica.raft.changeMembership({ type: 'add-learner', id: step.node, address }, options)
          break
        }
        case 'await-catch-up': await this.#awaitCatchUp(replica, step.node, status.commitIndex, options); break
        case 'promote': await replica.raft.changeMembership({ type: 'promote', id: step.node }, options); break
        case 'remove': await replica.raft.changeMembership({ type: 'remove', id: step.node }, options); break
        case 'transfer-leadership': await replica.raft.transferLeadership(step.to, options); break
      }
    } finally {
      replica.busy--
    }
  }

  async #awaitCatchUp (replica: Member, node: NodeId, target: number, options: { timeoutMs?: number } & AbortOptions): Promise<void> {
    const clock = this.#c.clock
    const deadline = clock.now() + (options.timeoutMs ?? 30_000)
    for (;;) {
      options.signal?.throwIfAborted()
      if (!this.#started) throw new NotStartedError('shard host stopped')
      const status = replica.raft.status()
      if (status.role !== 'leader') throw new NotLeaderError(`${this.nodeId} lost the lead of shard ${replica.shard}`, { leaderHint: status.leader, term: status.term })
      if ((status.progress[node]?.match ?? 0) >= target) return
      if (clock.now() > deadline) throw new TimeoutError(`${node} did not catch up on shard ${replica.shard}`)
      await new Promise<void>((resolve) => { clock.setTimeout(resolve, this.#tickMs) })
    }
  }

  // ------------------------------------------------------------------ routing

  shardOf (key: string): GroupId {
    if (this.#shardCount === 0) throw new NotStartedError('the shard count is not known yet: this node has not joined the metadata group')
    return shardOfKey(key, this.#shardCount)
  }

  placement (): readonly ShardPlacement[] {
    return [...this.#placement]
  }

  replica (shard: GroupId): ShardReplica | undefined {
    return this.#replicas.get(shard)
  }

  #local (shard: GroupId): Replica {
    if (!this.#started) throw new NotStartedError('shard host is not started')
    const replica = this.#replicas.get(shard)
    if (replica === undefined) {
      const hint = this.#placement[shard]?.preferredLeader
      throw new NotLeaderError(`shard ${shard} is not hosted on ${this.nodeId}`, { leaderHint: hint })
    }
    return replica
  }

  async write (command: KvCommand, options?: ProposeOptions): Promise<KvResult> {
    const replica = this.#local(this.shardOf(command.key))
    replica.busy++
    this.#wake(replica, 'local')
    try {
      return (await replica.raft.propose(encodeCommand(command), options)).result
    } finally {
      replica.busy--
    }
  }

  async readBarrier (shard: GroupId, options: ShardReadOptions = {}): Promise<ReadBarrier> {
    const replica = this.#local(shard)
    return await this.#withBusy(replica, async () => await this.#confirmRead(replica, options))
  }

  async get (key: string, options: ShardReadOptions = {}): Promise<KvRecord | undefined> {
    const replica = this.#local(this.shardOf(key))
    if (options.consistency === 'serializable') return replica.kv.get(key)
    return await this.#withBusy(replica, async () => {
      await this.#confirmRead(replica, options)
      return replica.kv.get(key)
    })
  }

  /**
   * A ReadIndex on a replica, abandoned with ERR_NOT_LEADER if the replica is dropped meanwhile: a
   * follower being removed from its shard may hold a read index it will never apply up to (the
   * leader stopped sending it entries), and stopping a Raft node does not end that wait.
   */
  async #confirmRead (replica: Member, options: ShardReadOptions): Promise<ReadBarrier> {
    let abandon: (error: Error) => void = () => {}
    const abandoned = new Promise<never>((_resolve, reject) => { abandon = reject })
    replica.reads.add(abandon)
    try {
      return await Promise.race([replica.raft.readBarrier({ mode: 'read-index', timeoutMs: options.timeoutMs, signal: options.signal }), abandoned])
    } finally {
      replica.reads.delete(abandon)
    }
  }

  #abandonReads (replica: Member): void {
    const error = new NotLeaderError(`the replica of shard ${replica.shard} on ${this.nodeId} left its shard`, { leaderHint: replica.placement.preferredLeader })
    for (const abandon of replica.reads) abandon(error)
    replica.reads.clear()
  }

  async balanceLeaders (options: { maxTransfers?: number } & AbortOptions = {}): Promise<number> {
    const candidates = [...this.#replicas.values()].filter((replica) =>
      replica.raft.isLeader() && replica.placement.preferredLeader !== this.nodeId && this.#liveness.isLive(replica.placement.preferredLeader))
    const chosen = candidates.slice(0, options.maxTransfers ?? 8)
    const results = await Promise.allSettled(chosen.map(async (replica) => {
      replica.busy++
      this.#wake(replica, 'local')
      try {
        await replica.raft.transferLeadership(replica.placement.preferredLeader, { signal: options.signal })
      } finally {
        replica.busy--
      }
    }))
    return results.filter((result) => result.status === 'fulfilled').length
  }

  // ------------------------------------------------------------------ quiescence

  #onShardMessage (replica: Member, from: NodeId, message: ShardMessage): void {
    if (isQuiescenceMessage(message)) {
      if (message.to !== this.nodeId) return
      if (message.type === 'wake') {
        this.#wake(replica, 'peer')
        return
      }
      const status = replica.raft.status()
      // A follower with a request of its own in flight (a forwarded write, a ReadIndex) stays
      // awake: its request's deadline runs on the group's clock.
      if (this.#quiesce && replica.mayQuiesce && replica.busy === 0 && followerMayQuiesce(status, message)) {
        this.#sleep(replica)
      } else {
        // Not at the leader's position, busy, or quiescence is off here: the leader must keep going.
        this.#send(replica, from, { type: 'wake', from: this.nodeId, to: from, term: status.term })
      }
      return
    }
    if (replica.quiesced && wakesQuiescedReplica(message)) {
      this.#wake(replica, from === replica.raft.status().leader ? 'leader' : 'peer')
    }
  }

  /**
   * A request for a shard this node does not host (any more: its replica moved away) is refused at
   * once, so the sender retries elsewhere instead of waiting out its deadline.
   */
  #answerForGoneReplica (group: GroupId, from: NodeId, message: ShardMessage): void {
    if (message.to !== this.nodeId) return
    if (message.type === 'forward-propose') {
      this.#mux.sendAs(group, from, {
        type: 'forward-propose-result', from: this.nodeId, to: from, term: message.term, requestId: message.requestId,
        index: -1, entryTerm: 0, errorCode: NotLeaderError.code, leaderHint: null
      })
    } else if (message.type === 'read-index') {
      this.#mux.sendAs(group, from, { type: 'read-index-response', from: this.nodeId, to: from, term: message.term, context: message.context, index: -1 })
    }
  }

  #sleep (replica: Member): void {
    if (replica.quiesced) return
    replica.clock.pause()
    replica.quiesced = true
    replica.idleTicks = 0
    this.#awake.delete(replica)
    this.#quiesces++
  }

  /**
   * Wakes a quiesced replica. A follower woken by anything but its leader tells the leader, so the
   * whole group resumes ticking rather than one follower timing out into a needless election.
   */
  #wake (replica: Member, reason: 'local' | 'leader' | 'peer' | 'peer-dead'): void {
    if (!replica.quiesced) return
    replica.clock.resume()
    replica.quiesced = false
    replica.idleTicks = 0
    this.#awake.add(replica)
    this.#wakes++
    if (reason === 'leader') return
    const status = replica.raft.status()
    if (status.role !== 'leader' && status.leader !== undefined && status.leader !== this.nodeId && this.#liveness.isLive(status.leader)) {
      this.#send(replica, status.leader, { type: 'wake', from: this.nodeId, to: status.leader, term: status.term })
    }
  }

  #send (replica: Member, to: NodeId, message: QuiescenceMessage): void {
    replica.view.send(to, message)
  }

  // ------------------------------------------------------------------ the host tick

  #scheduleTick (): void {
    this.#timer = this.#c.clock.setTimeout(() => { this.#onTick() }, this.#tickMs)
  }

  #onTick (): void {
    if (!this.#started) return
    const now = this.#c.clock.now()
    for (const peer of this.#liveness.peers()) {
      if (now - (this.#lastSentTo.get(peer) ?? -Infinity) >= this.#heartbeatIntervalMs) {
        if (this.#mux.heartbeat(peer)) this.#lastSentTo.set(peer, now)
      }
    }
    const { died, revived } = this.#liveness.check(now)
    for (const peer of died) {
      this.#logger?.warn({ peer }, 'peer presumed dead; waking its shards')
      for (const replica of this.#members()) {
        const config = replica.raft.status().config
        if (config.voters.includes(peer) || config.learners.includes(peer) || config.outgoingVoters?.includes(peer) === true) this.#wake(replica, 'peer-dead')
      }
    }
    for (const peer of revived) this.#logger?.info({ peer }, 'peer is back')
    if (this.#quiesce) this.#quiesceIdleLeaders()
    if (this.#autoRebalance) this.#drive()
    this.#scheduleTick()
  }

  #quiesceIdleLeaders (): void {
    const isLive = (node: NodeId): boolean => this.#liveness.isLive(node)
    for (const replica of this.#awake) {
      if (!replica.mayQuiesce || !replica.raft.isLeader()) continue
      const status = replica.raft.status()
      if (!leaderMayQuiesce(status, isLive, replica.busy > 0)) {
        replica.idleTicks = 0
        continue
      }
      // Idle at one position for a few ticks: the heartbeats since carried the commit index to
      // every follower, so each can check it holds exactly what the leader holds.
      if (replica.idleAtIndex !== status.lastIndex) {
        replica.idleAtIndex = status.lastIndex
        replica.idleTicks = 0
      }
      if (++replica.idleTicks < this.#quiesceAfterTicks) continue
      for (const member of otherMembers(status)) {
        this.#send(replica, member, { type: 'quiesce', from: this.nodeId, to: member, term: status.term, commitIndex: status.commitIndex, lastIndex: status.lastIndex })
      }
      this.#sleep(replica)
    }
  }

  // ------------------------------------------------------------------ status

  status (): ShardStatus[] {
    return [...this.#replicas.values()].map((replica) => {
      const status = replica.raft.status()
      return {
        shard: replica.shard,
        role: status.role,
        term: status.term,
        leader: status.leader,
        commitIndex: status.commitIndex,
        appliedIndex: status.appliedIndex,
        quiesced: replica.quiesced,
        replicas: replica.placement.replicas,
        preferredLeader: replica.placement.preferredLeader
      }
    })
  }

  stats (): ShardHostStats {
    return {
      shards: this.#replicas.size,
      awake: [...this.#awake].filter((member) => member.shard >= 0).length,
      quiesced: [...this.#replicas.values()].filter((replica) => replica.quiesced).length,
      metadataAwake: this.#metadata === undefined ? undefined : !this.#metadata.member.quiesced,
      quiesces: this.#quiesces,
      wakes: this.#wakes,
      peers: this.#liveness.peers(),
      deadPeers: this.#liveness.peers().filter((peer) => !this.#liveness.isLive(peer)),
      mux: this.#mux.stats()
    }
  }
}
