import type { ClusterConfig, HardState, LogEntry, NodeId, Random } from '@synod/interfaces'
import { createRaftCore } from '../../src/core/index.js'
import type { CoreSnapshotPoint, RaftCore, RaftCoreConfig, RaftMessage, ReadState, FailedRead, Ready } from '../../src/core/index.js'
import { MemoryLog } from './memory-log.js'
import { seededRandom } from './random.js'

export type CoreOptions = Omit<RaftCoreConfig, 'id' | 'storage' | 'random' | 'hardState' | 'snapshot'>

/** One node of the in-process test network: a core plus its synchronous "durable" state. */
export class TestNode {
  core: RaftCore
  hardState: HardState | undefined
  snapshot: CoreSnapshotPoint
  applied: LogEntry[] = []
  readStates: ReadState[] = []
  failedReads: FailedRead[] = []
  /** Snapshot sends the core asked for (the network completes them instantly unless told not to). */
  snapshotSends: Array<{ to: NodeId, index: number }> = []

  constructor (readonly id: NodeId, readonly log: MemoryLog, snapshot: CoreSnapshotPoint, readonly options: CoreOptions, readonly random: Random, hardState?: HardState) {
    this.snapshot = snapshot
    this.hardState = hardState
    this.core = this.#build()
  }

  #build (): RaftCore {
    return createRaftCore({ ...this.options, id: this.id, storage: this.log, random: this.random, hardState: this.hardState, snapshot: this.snapshot })
  }

  /** Simulates a crash and restart from durable state (everything here is durable once persisted). */
  restart (): void {
    this.applied = this.applied.filter((e) => e.index <= this.snapshot.index)
    this.core = this.#build()
  }

  appliedCommands (): string[] {
    const decoder = new TextDecoder()
    return this.applied.filter((e) => e.type === 'command').map((e) => decoder.decode(e.data))
  }
}

export interface NetworkOptions extends CoreOptions {
  seed?: number
  /** Per-node log terms to preload (Figure 7 style). */
  logs?: Record<NodeId, number[]>
  /** Per-node initial term. */
  terms?: Record<NodeId, number>
}

/**
 * An in-process network of cores (raft-rs harness/network.rs): messages are queued and delivered
 * by `deliver()`, subject to `cut`, `isolate`, `drop` rules and a message filter.
 */
export class Network {
  readonly nodes = new Map<NodeId, TestNode>()
  readonly queue: RaftMessage[] = []
  /** Every message delivered, for assertions. */
  readonly delivered: RaftMessage[] = []
  readonly #cuts = new Set<string>()
  readonly #random: Random
  #dropRate = 0
  #filter: ((m: RaftMessage) => boolean) | undefined
  #rewrite: ((m: RaftMessage) => RaftMessage) | undefined
  /** When false, snapshot sends stay pending until `completeSnapshot` is called. */
  autoSnapshot = true

  constructor (ids: NodeId[], options: NetworkOptions = {}) {
    const { seed = 1, logs = {}, terms = {}, ...coreOptions } = options
    this.#random = seededRandom(seed * 7919)
    const config: ClusterConfig = { voters: [...ids], learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
    ids.forEach((id, i) => {
      const log = MemoryLog.withTerms(logs[id] ?? [])
      const term = Math.max(terms[id] ?? 0, log.term(log.lastIndex()) ?? 0)
      const hard = term > 0 ? { term, vote: null, commit: 0 } : undefined
      this.nodes.set(id, new TestNode(id, log, { index: 0, term: 0, config }, coreOptions, seededRandom(seed * 1000 + i), hard))
    })
  }

  /** Adds a node that starts with an empty configuration (joins by membership change). */
  addNode (id: NodeId, options: CoreOptions = {}, seed = 99): TestNode {
    const node = new TestNode(id, new MemoryLog(), { index: 0, term: 0, config: { voters: [], learners: [], addresses: {} } }, options, seededRandom(seed))
    this.nodes.set(id, node)
    return node
  }

  node (id: NodeId): TestNode {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }

  core (id: NodeId): RaftCore {
    return this.node(id).core
  }

  leader (): NodeId | undefined {
    for (const [id, node] of this.nodes) if (node.core.status().role === 'leader') return id
    return undefined
  }

  cut (a: NodeId, b: NodeId): void {
    this.#cuts.add(`${a}>${b}`)
    this.#cuts.add(`${b}>${a}`)
  }

  /** Cuts every link of `id`. */
  isolate (id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other)
  }

  /** Cuts only messages from `a` to `b`. */
  cutOneWay (a: NodeId, b: NodeId): void {
    this.#cuts.add(`${a}>${b}`)
  }

  heal (): void {
    this.#cuts.clear()
    this.#dropRate = 0
    this.#filter = undefined
    this.#rewrite = undefined
  }

  /** Drops each message with probability `rate` (seeded). */
  dropRate (rate: number): void {
    this.#dropRate = rate
  }

  /** Drops every message for which `filter` returns false. */
  filter (filter: ((m: RaftMessage) => boolean) | undefined): void {
    this.#filter = filter
  }

  /** Rewrites messages in flight (to model a partially delivered batch). */
  rewrite (rewrite: ((m: RaftMessage) => RaftMessage) | undefined): void {
    this.#rewrite = rewrite
  }

  /** Runs every node's Ready cycle: persist, queue messages, apply, advance. */
  processReady (id: NodeId): Ready | undefined {
    const node = this.node(id)
    if (!node.core.hasReady()) return undefined
    const rd = node.core.ready()
    this.queue.push(...rd.earlyMessages)
    if (rd.snapshot !== undefined) {
      node.log.reset(rd.snapshot.index, rd.snapshot.term)
      node.snapshot = rd.snapshot
      node.applied = node.applied.filter((e) => e.index <= rd.snapshot!.index)
    }
    if (rd.entries.length > 0) node.log.append(rd.entries)
    if (rd.hardState !== undefined) node.hardState = rd.hardState
    this.queue.push(...rd.messages)
    node.applied.push(...rd.committedEntries)
    node.readStates.push(...rd.readStates)
    node.failedReads.push(...rd.failedReads)
    for (const fetch of rd.fetches) {
      try {
        node.core.entriesFetched(fetch.id, node.log.slice(fetch.from, fetch.to))
      } catch (error) {
        node.core.fetchFailed(fetch.id, error)
      }
    }
    for (const send of rd.snapshotSends) node.snapshotSends.push({ to: send.to, index: send.meta.index })
    node.core.advance(rd)
    if (this.autoSnapshot) for (const send of rd.snapshotSends) this.completeSnapshot(id, send.to)
    return rd
  }

  /** Delivers the snapshot `from` last asked to send to `to`, as if all chunks arrived. */
  completeSnapshot (from: NodeId, to: NodeId): void {
    const sender = this.node(from)
    const target = this.nodes.get(to)
    if (target === undefined || this.#cuts.has(`${from}>${to}`)) {
      sender.core.reportSnapshot(to, false)
      return
    }
    const point = sender.snapshot
    target.core.step({ type: 'snapshot-chunk', from, to, term: sender.core.status().term, meta: point, offset: 0, data: new Uint8Array(), done: true })
    target.core.snapshotReceived(from, point)
    sender.core.reportSnapshot(to, true)
  }

  /** Takes a snapshot on `id` at its applied index and compacts its log up to it. */
  snapshotAndCompact (id: NodeId): void {
    const node = this.node(id)
    const status = node.core.status()
    const index = status.appliedIndex
    const term = node.log.term(index) ?? 0
    const point = { index, term, config: status.config }
    node.core.snapshotTaken(point)
    node.snapshot = point
    node.core.compact(index)
    node.log.compact(index, term)
  }

  #allowed (m: RaftMessage): boolean {
    if (!this.nodes.has(m.to)) return false
    if (this.#cuts.has(`${m.from}>${m.to}`)) return false
    if (this.#filter !== undefined && !this.#filter(m)) return false
    if (this.#dropRate > 0 && this.#random.next() < this.#dropRate) return false
    return true
  }

  /** Runs ready cycles and delivers messages until nothing is left to do. */
  deliver (maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let progressed = false
      for (const id of this.nodes.keys()) if (this.processReady(id) !== undefined) progressed = true
      const batch = this.queue.splice(0)
      for (const original of batch) {
        if (!this.#allowed(original)) continue
        const m = this.#rewrite?.(original) ?? original
        this.delivered.push(m)
        this.node(m.to).core.step(m)
        progressed = true
      }
      if (!progressed) return
    }
    throw new Error('network did not quiesce')
  }

  /** Sends one message into the network (as if from its `from`) and runs until quiet. */
  send (m: RaftMessage): void {
    this.queue.push(m)
    this.deliver()
  }

  tick (id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).core.tick()
  }

  /** Ticks every node once per round and delivers in between. */
  tickAll (rounds = 1): void {
    for (let i = 0; i < rounds; i++) {
      for (const node of this.nodes.values()) node.core.tick()
      this.deliver()
    }
  }

  /** Makes `id` campaign and runs until quiet. */
  elect (id: NodeId): void {
    this.core(id).campaign()
    this.deliver()
  }

  propose (id: NodeId, text: string): void {
    this.core(id).propose(new TextEncoder().encode(text))
    this.deliver()
  }

  /** Ticks until some node leads (and the network is quiet), or throws. */
  waitForLeader (maxRounds = 200): NodeId {
    for (let i = 0; i < maxRounds; i++) {
      const leader = this.leader()
      if (leader !== undefined) return leader
      this.tickAll()
    }
    throw new Error('no leader elected')
  }
}

export function text (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}
