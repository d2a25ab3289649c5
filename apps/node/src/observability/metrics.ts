import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeId, ReplicatedLogStatus } from '@synod/interfaces'

/**
 * What the metrics read from the consensus node (a narrow view of `RaftNode` and `PaxosNode`,
 * which both report it; for Paxos the term is the ballot round and indexes are slots).
 */
export interface RaftSource {
  status(): Pick<ReplicatedLogStatus, 'role' | 'term' | 'leader' | 'commitIndex' | 'appliedIndex' | 'lastIndex'> & Partial<Pick<ReplicatedLogStatus, 'config'>> & {
    /** Per-peer replication progress; empty unless this node leads. */
    progress: Record<NodeId, { match: number, next: number }>
  }
  metrics(): {
    leaderChanges: number
    proposals: number
    proposalsFailed: number
  }
}

/** What the metrics read from the peer transport (a narrow view of `WsTransport`). */
export interface TransportSource {
  stats(): { messagesSent: number, messagesReceived: number, dropped: number, queuedMessages: number }
}

/** What the metrics read from the KV state machine. */
export interface KvSource {
  size(): number
  revision(): number
}

const ROLES: ReadonlyArray<ReplicatedLogStatus['role']> = ['follower', 'pre-candidate', 'candidate', 'leader', 'learner']

/** Seconds; from a fast local fsync to a slow election. */
const PROPOSAL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export interface NodeMetrics {
  readonly registry: Registry
  recordHttp: (route: string, status: number, ms: number) => void
  recordProposal: (ms: number, ok: boolean) => void
}

/**
 * Registers the node's metrics in a registry of its own (never prom-client's global one, so two
 * nodes in one process do not mix). Gauges and counters kept elsewhere (Raft, transport, KV) are
 * read at scrape time by `collect`, so nothing runs between scrapes.
 */
export function createNodeMetrics (sources: { raft: RaftSource, transport: TransportSource, kv: KvSource }, options: { nodeId: NodeId, engine?: 'raft' | 'paxos', processMetrics: boolean }): NodeMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ node: options.nodeId })
  const registers = [registry]
  const { raft, transport, kv } = sources

  // The registry runs every collect in one synchronous pass, so caching the status until the next
  // microtask gives all Raft gauges of a scrape one consistent snapshot for one status() call.
  let status: ReturnType<RaftSource['status']> | undefined
  const readStatus = (): ReturnType<RaftSource['status']> => {
    if (status === undefined) {
      status = raft.status()
      queueMicrotask(() => { status = undefined })
    }
    return status
  }

  new Gauge({
    name: 'synod_consensus_info',
    help: 'Always 1; the engine label names the consensus engine this node runs (the synod_raft_* metrics report it).',
    labelNames: ['engine'],
    registers
  }).set({ engine: options.engine ?? 'raft' }, 1)
  new Gauge({
    name: 'synod_cluster_voters',
    help: 'Voting members in the configuration this node knows.',
    registers,
    collect () { this.set(readStatus().config?.voters.length ?? 0) }
  })
  new Gauge({
    name: 'synod_cluster_learners',
    help: 'Non-voting members (learners) in the configuration this node knows.',
    registers,
    collect () { this.set(readStatus().config?.learners.length ?? 0) }
  })
  new Gauge({
    name: 'synod_raft_term',
    help: 'Current term of this node (Raft term; Paxos ballot round).',
    registers,
    collect () { this.set(readStatus().term) }
  })
  new Gauge({
    name: 'synod_raft_role',
    help: 'Role of this node: 1 for the role it has, 0 for the others.',
    labelNames: ['role'],
    registers,
    collect () {
      const role = readStatus().role
      for (const each of ROLES) this.set({ role: each }, each === role ? 1 : 0)
    }
  })
  new Gauge({
    name: 'synod_raft_is_leader',
    help: '1 while this node believes it is the leader, else 0.',
    registers,
    collect () { this.set(readStatus().role === 'leader' ? 1 : 0) }
  })
  new Gauge({
    name: 'synod_raft_has_leader',
    help: '1 while this node knows a leader, else 0 (an election is running or the node is cut off).',
    registers,
    collect () { this.set(readStatus().leader === undefined ? 0 : 1) }
  })
  new Gauge({
    name: 'synod_raft_commit_index',
    help: 'Highest log index known to be committed.',
    registers,
    collect () { this.set(readStatus().commitIndex) }
  })
  new Gauge({
    name: 'synod_raft_applied_index',
    help: 'Highest log index applied to the state machine.',
    registers,
    collect () { this.set(readStatus().appliedIndex) }
  })
  new Gauge({
    name: 'synod_raft_last_index',
    help: 'Last index in the local log.',
    registers,
    collect () { this.set(readStatus().lastIndex) }
  })
  new Gauge({
    name: 'synod_raft_peer_match_index',
    help: 'Highest index known replicated on each peer (reported by the leader only).',
    labelNames: ['peer'],
    registers,
    collect () {
      // Reset so peers that left the configuration, or a lost leadership, leave no stale series.
      this.reset()
      for (const [peer, progress] of Object.entries(readStatus().progress)) this.set({ peer }, progress.match)
    }
  })
  new Gauge({
    name: 'synod_raft_peer_next_index',
    help: 'Next index the leader will send to each peer (reported by the leader only).',
    labelNames: ['peer'],
    registers,
    collect () {
      this.reset()
      for (const [peer, progress] of Object.entries(readStatus().progress)) this.set({ peer }, progress.next)
    }
  })
  counterFrom(registers, 'synod_raft_leader_changes_total', 'Times this node saw the leader change.', () => raft.metrics().leaderChanges)
  counterFrom(registers, 'synod_raft_proposals_total', 'Proposals handled by the Raft driver.', () => raft.metrics().proposals)
  counterFrom(registers, 'synod_raft_proposals_failed_total', 'Proposals the Raft driver failed.', () => raft.metrics().proposalsFailed)

  const proposalDuration = new Histogram({
    name: 'synod_proposal_duration_seconds',
    help: 'Time from proposing a command to having it committed and applied, by outcome.',
    labelNames: ['outcome'],
    buckets: PROPOSAL_BUCKETS,
    registers
  })

  counterFrom(registers, 'synod_transport_messages_sent_total', 'Peer messages written to a socket.', () => transport.stats().messagesSent)
  counterFrom(registers, 'synod_transport_messages_received_total', 'Peer messages delivered to Raft.', () => transport.stats().messagesReceived)
  counterFrom(registers, 'synod_transport_messages_dropped_total', 'Peer messages refused by send (queue full, unknown peer, stopped).', () => transport.stats().dropped)
  new Gauge({
    name: 'synod_transport_queued_messages',
    help: 'Peer messages waiting in send queues.',
    registers,
    collect () { this.set(transport.stats().queuedMessages) }
  })

  const httpRequests = new Counter({
    name: 'synod_http_requests_total',
    help: 'HTTP requests served, by route and status code.',
    labelNames: ['route', 'status'],
    registers
  })
  const httpDuration = new Histogram({
    name: 'synod_http_request_duration_seconds',
    help: 'HTTP request latency, by route and status code.',
    labelNames: ['route', 'status'],
    buckets: HTTP_BUCKETS,
    registers
  })

  new Gauge({
    name: 'synod_kv_keys',
    help: 'Keys in the KV store.',
    registers,
    collect () { this.set(kv.size()) }
  })
  new Gauge({
    name: 'synod_kv_revision',
    help: 'Store revision: the log index of the last change to a key.',
    registers,
    collect () { this.set(kv.revision()) }
  })

  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'synod_' })

  return {
    registry,
    recordHttp: (route, status, ms) => {
      const labels = { route, status: String(status) }
      httpRequests.inc(labels)
      httpDuration.observe(labels, ms / 1000)
    },
    recordProposal: (ms, ok) => {
      proposalDuration.observe({ outcome: ok ? 'ok' : 'error' }, ms / 1000)
    }
  }
}

/** A counter whose running total is kept by another component and read at scrape time. */
function counterFrom (registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect () {
      this.reset()
      this.inc(read())
    }
  })
}
