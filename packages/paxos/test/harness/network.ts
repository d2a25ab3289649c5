import type { ClusterConfig, LogEntry, NodeId, Random } from '@synod/interfaces'
import { createPaxosCore, decodeSlot, formatBallot } from '../../src/core/index.js'
import type { PaxosCore, PaxosCoreConfig, PaxosHardState, PaxosMessage, PaxosReady, PaxosSnapshotPoint, ReadState, FailedRead } from '../../src/core/index.js'
import { seededRandom } from './random.js'

export type CoreOptions = Omit<PaxosCoreConfig, 'id' | 'random' | 'hardState' | 'snapshot' | 'entries' | 'recovering'>

const decoder = new TextDecoder()
export const text = (value: string): Uint8Array => new TextEncoder().encode(value)

/** One replica of the in-process network: a core plus its synchronous "durable" state. */
export class TestNode {
  core: PaxosCore
  hardState: PaxosHardState | undefined
  log: LogEntry[] = []
  snapshot: PaxosSnapshotPoint
  applied: LogEntry[] = []
  readStates: ReadState[] = []
  failedReads: FailedRead[] = []
  /** When set, the next persist fails: its messages are never sent and the replica restarts. */
  failNextPersist = false
  persistFailures = 0
  /** The applied prefix a snapshot transfer brought, installed with the next Ready's snapshot. */
  pendingSnapshotState: LogEntry[] | undefined

  constructor (readonly id: NodeId, readonly network: Network, snapshot: PaxosSnapshotPoint, readonly options: CoreOptions, readonly random: Random) {
    this.snapshot = snapshot
    this.core = this.#build(false)
  }

  #build (recovering: boolean): PaxosCore {
    return createPaxosCore({ ...this.options, id: this.id, random: this.random, hardState: this.hardState, snapshot: this.snapshot, entries: this.log, recovering })
  }

  /** Crash and restart from durable state. */
  restart (): void {
    this.applied = this.applied.filter((e) => e.index <= this.snapshot.index)
    this.core = this.#build(false)
  }

  /** Loses every durable byte, as after a disk replacement, and comes back recovering. */
  wipe (bootstrap: ClusterConfig): void {
    this.hardState = undefined
    this.log = []
    this.snapshot = { index: 0, term: 0, config: bootstrap }
    this.applied = []
    this.core = this.#build(true)
  }

  firstIndex (): number {
    return this.log[0]?.index ?? this.snapshot.index + 1
  }

  /** Persist, then send, then apply, then advance. */
  handle (rd: PaxosReady): void {
    for (const m of rd.earlyMessages) this.network.send(m)
    if (this.failNextPersist) {
      this.failNextPersist = false
      this.persistFailures++
      this.restart()
      return
    }
    if (rd.snapshot !== undefined) {
      this.snapshot = rd.snapshot
      this.log = this.log.filter((e) => e.index > rd.snapshot!.index)
      this.applied = (this.pendingSnapshotState ?? []).filter((e) => e.index <= rd.snapshot!.index)
      this.pendingSnapshotState = undefined
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index
      const keep = this.log.filter((e) => e.index < first)
      const expected = (keep[keep.length - 1]?.index ?? this.firstIndex() - 1) + 1
      if (first > expected) throw new Error(`${this.id}: append at ${first} leaves a gap after ${expected - 1}`)
      this.log = [...keep, ...rd.entries]
      if (!this.core.status().recovering) this.network.recordVotes(this.id, rd.entries)
    }
    if (rd.hardState !== undefined) this.hardState = rd.hardState
    for (const m of rd.messages) this.network.send(m)
    for (const entry of rd.committedEntries) {
      const previous = this.applied[this.applied.length - 1]
      const expected = previous === undefined ? this.snapshot.index + 1 : previous.index + 1
      if (entry.index !== expected) throw new Error(`${this.id}: applied ${entry.index}, expected ${expected}`)
      this.applied.push(entry)
      this.network.recordApplied(this.id, entry)
    }
    this.readStates.push(...rd.readStates)
    this.failedReads.push(...rd.failedReads)
    for (const send of rd.snapshotSends) this.network.completeSnapshot(this.id, send.to, send.meta)
    this.core.advance(rd)
  }

  /** A durable checkpoint of what is applied (the "state machine" is the applied list). */
  checkpoint (): PaxosSnapshotPoint {
    const last = this.applied[this.applied.length - 1]
    const index = last?.index ?? this.snapshot.index
    const config = this.core.snapshotConfig(index)
    if (config === undefined) throw new Error('a membership change is pending activation')
    const point = { index, term: last?.term ?? this.snapshot.term, config }
    this.snapshot = point
    this.core.snapshotTaken(point)
    return point
  }

  compact (upTo: number): void {
    const term = this.core.compact(upTo)
    void term
    this.log = this.log.filter((e) => e.index > upTo)
  }

  commands (): string[] {
    return this.applied.filter((e) => e.type === 'command').map((e) => decoder.decode(e.data))
  }
}

export interface NetworkOptions extends CoreOptions {
  ids?: NodeId[]
  seed?: number
  /** Probability a message is dropped. */
  loss?: number
  /** Probability a message is delivered twice. */
  duplicate?: number
  /** Deliver in random order instead of FIFO. */
  reorder?: boolean
}

/**
 * An in-process network of Paxos cores: messages are queued and delivered by `deliverAll()`,
 * subject to partitions, loss, duplication, reordering and a filter. It also keeps the ground
 * truth of the protocol: every durable vote ever cast, to check that no two values are chosen.
 */
export class Network {
  readonly nodes = new Map<NodeId, TestNode>()
  queue: PaxosMessage[] = []
  readonly delivered: PaxosMessage[] = []
  readonly random: Random
  readonly #cuts = new Set<string>()
  filter: ((m: PaxosMessage) => boolean) | undefined
  loss: number
  duplicate: number
  reorder: boolean
  /** slot -> ballot -> value and voters. */
  readonly votes = new Map<number, Map<string, { value: string, voters: Set<NodeId> }>>()
  /** slot -> value applied anywhere first. */
  readonly appliedValues = new Map<number, string>()
  readonly violations: string[] = []
  readonly bootstrap: ClusterConfig

  constructor (readonly options: NetworkOptions = {}) {
    const ids = options.ids ?? ['n1', 'n2', 'n3']
    this.random = seededRandom(options.seed ?? 1)
    this.loss = options.loss ?? 0
    this.duplicate = options.duplicate ?? 0
    this.reorder = options.reorder ?? false
    this.bootstrap = { voters: [...ids], learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
    const { ids: _ids, seed: _seed, loss: _loss, duplicate: _duplicate, reorder: _reorder, ...core } = options
    ids.forEach((id, i) => {
      this.nodes.set(id, new TestNode(id, this, { index: 0, term: 0, config: this.bootstrap }, core, seededRandom((options.seed ?? 1) * 100 + i)))
    })
  }

  node (id: NodeId): TestNode {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }

  core (id: NodeId): PaxosCore {
    return this.node(id).core
  }

  send (m: PaxosMessage): void {
    this.queue.push(m)
  }

  cut (a: NodeId, b: NodeId): void {
    this.#cuts.add(`${a}|${b}`)
    this.#cuts.add(`${b}|${a}`)
  }

  isolate (id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other)
  }

  /** Splits the cluster: nodes in `side` can only talk among themselves. */
  partition (side: NodeId[]): void {
    for (const a of this.nodes.keys()) for (const b of this.nodes.keys()) if (side.includes(a) !== side.includes(b)) this.cut(a, b)
  }

  heal (): void {
    this.#cuts.clear()
  }

  /** Runs every pending Ready. */
  process (): void {
    for (let round = 0; round < 1000; round++) {
      let any = false
      for (const node of this.nodes.values()) {
        if (node.core.hasReady()) {
          any = true
          node.handle(node.core.ready())
        }
      }
      if (!any) return
    }
    throw new Error('readies never settle')
  }

  /** Delivers one queued message (the oldest, or a random one when reordering). */
  deliverOne (): boolean {
    if (this.queue.length === 0) return false
    const index = this.reorder ? this.random.int(this.queue.length) : 0
    const [m] = this.queue.splice(index, 1)
    if (m === undefined) return false
    if (this.#cuts.has(`${m.from}|${m.to}`)) return true
    if (this.filter !== undefined && !this.filter(m)) return true
    if (this.loss > 0 && this.random.next() < this.loss) return true
    const target = this.nodes.get(m.to)
    if (target === undefined) return true
    this.delivered.push(m)
    target.core.step(m)
    if (this.duplicate > 0 && this.random.next() < this.duplicate) this.queue.push(m)
    return true
  }

  /** Processes readies and delivers messages until nothing is left (bounded). */
  stabilize (maxSteps = 100_000): void {
    this.process()
    for (let i = 0; i < maxSteps; i++) {
      if (!this.deliverOne()) return
      this.process()
    }
    throw new Error('network never quiesced')
  }

  tick (ids: Iterable<NodeId> = this.nodes.keys()): void {
    for (const id of ids) this.node(id).core.tick()
  }

  /** Ticks every node and stabilizes, `rounds` times. */
  run (rounds: number, ids?: NodeId[]): void {
    for (let i = 0; i < rounds; i++) {
      this.tick(ids)
      this.stabilize()
    }
  }

  leader (): TestNode | undefined {
    return [...this.nodes.values()].find((n) => n.core.status().role === 'leader')
  }

  /** Elects `id` by campaigning it and delivering everything. */
  elect (id: NodeId): TestNode {
    this.core(id).campaign()
    this.stabilize()
    const node = this.node(id)
    if (node.core.status().role !== 'leader') throw new Error(`${id} did not become leader`)
    return node
  }

  recordVotes (id: NodeId, entries: LogEntry[]): void {
    for (const entry of entries) {
      const value = decodeSlot(entry)
      const key = formatBallot(value.ballot)
      let slot = this.votes.get(entry.index)
      if (slot === undefined) this.votes.set(entry.index, slot = new Map<string, { value: string, voters: Set<NodeId> }>())
      let vote = slot.get(key)
      const data = `${value.type}:${decoder.decode(value.data)}`
      if (vote === undefined) slot.set(key, vote = { value: data, voters: new Set() })
      if (vote.value !== data) this.violations.push(`slot ${entry.index}: two values at ballot ${key}`)
      vote.voters.add(id)
    }
  }

  recordApplied (id: NodeId, entry: LogEntry): void {
    const data = `${entry.type}:${decoder.decode(entry.data)}`
    const known = this.appliedValues.get(entry.index)
    if (known === undefined) this.appliedValues.set(entry.index, data)
    else if (known !== data) this.violations.push(`slot ${entry.index}: ${id} applied ${data}, another replica ${known}`)
  }

  /** Values chosen per slot from the votes: accepted by a phase-2 quorum at one ballot. */
  chosen (quorum: number): Map<number, Set<string>> {
    const out = new Map<number, Set<string>>()
    for (const [slot, ballots] of this.votes) {
      for (const vote of ballots.values()) {
        if (vote.voters.size < quorum) continue
        let values = out.get(slot)
        if (values === undefined) out.set(slot, values = new Set())
        values.add(vote.value)
      }
    }
    return out
  }

  /** Agreement: at most one value chosen per slot, and every replica applied the same values. */
  checkAgreement (quorum: number): string[] {
    const problems = [...this.violations]
    for (const [slot, values] of this.chosen(quorum)) {
      if (values.size > 1) problems.push(`slot ${slot}: ${values.size} values chosen: ${[...values].join(', ')}`)
    }
    return problems
  }

  completeSnapshot (from: NodeId, to: NodeId, meta: PaxosSnapshotPoint): void {
    const sender = this.node(from)
    const receiver = this.nodes.get(to)
    if (receiver === undefined || this.#cuts.has(`${from}|${to}`)) {
      sender.core.reportSnapshot(to, false)
      return
    }
    // The "state" is the applied list: copy the sender's prefix up to the snapshot.
    receiver.core.snapshotReceived(from, meta)
    receiver.pendingSnapshotState = sender.applied.filter((e) => e.index <= meta.index)
    sender.core.reportSnapshot(to, true)
  }
}
