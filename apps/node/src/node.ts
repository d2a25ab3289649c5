import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError, type ClusterConfig, type Logger, type NodeId, type ReplicatedLog, type ReplicatedLogStatus, type StateMachine } from '@synod/interfaces'
import { createLockService, createLockStateMachine } from '@synod/lock'
import { createPaxosNode, isWireMessage as isPaxosWireMessage, type PaxosHardState, type PaxosWireMessage } from '@synod/paxos'
import { createRaftNode, isWireMessage as isRaftWireMessage, type CommitPropagation, type RaftWireMessage } from '@synod/raft'
import { createFileHardStateStorage, createFileLogStorage, createFileSnapshotStorage } from '@synod/storage'
import { createWsTransport, type WsTransport } from '@synod/transport-ws'
import { createHttpApi } from './http/server.js'
import { createWsApi } from './ws-api/index.js'
import { createObservability } from './observability/index.js'
import type { KvResult } from './kv/commands.js'
import { createKvStateMachine, type KvStateMachine } from './kv/state-machine.js'
import { createMuxStateMachine } from './mux/state-machine.js'
import { createDirectoryStateMachine, encodeDirectoryCommand, type DirectoryCommand } from './directory/state-machine.js'
import { createGroupAdmin } from './http/admin.js'
import { createTaggedLog } from './mux/tagged-log.js'
import { systemClock, systemRandom } from './system/clock.js'
import { closeClientApis, openClientApis, type NodeServices } from './serving.js'

export interface HostPort { host: string, port: number }

/** The consensus engines a node can run; both implement the same `ReplicatedLog` contract. */
export type ConsensusEngine = 'raft' | 'paxos'
export const CONSENSUS_ENGINES: readonly ConsensusEngine[] = ['raft', 'paxos']

/** What the node reads from its engine beyond `ReplicatedLog`: per-peer progress and counters (both engines report them). */
export interface ConsensusNode extends ReplicatedLog<unknown> {
  status(): ReplicatedLogStatus & { progress: Record<NodeId, { match: number, next: number }> }
  metrics(): { leaderChanges: number, proposals: number, proposalsFailed: number }
}

/** Everything one Synod node process needs to know. */
export interface SynodNodeConfig {
  id: NodeId
  /** Where peers connect (the consensus transport). */
  peerListen: HostPort
  /** Where clients connect (HTTP/JSON API). */
  apiListen: HostPort
  /**
   * Peer address (`host:port`) of every founding member, this node included. With `join`, the
   * addresses of members of the running cluster to reach (this node need not be among them).
   */
  members: Map<NodeId, string>
  /**
   * Join a running cluster instead of founding one: start with no configuration and learn it from
   * the leader's log or snapshot once a member has added this node (`POST /v1/members`). Ignored
   * once the data directory holds state. @default false
   */
  join?: boolean
  /** Consensus engine; a data directory keeps the engine it was created with. @default 'raft' */
  consensus?: ConsensusEngine
  /** Client API URL of each member, for leader hints. Members added at runtime are added to it. */
  apiUrls?: Map<NodeId, string>
  /** Where the WebSocket + MessagePack client API (for `@synod/client`) listens; off when absent. */
  clientWsListen?: HostPort | undefined
  /** WebSocket client API URL of each member (`ws://host:port`), for leader hints. */
  clientWsUrls?: Map<NodeId, string>
  dataDir: string
  /** Peers from another cluster are refused. @default 'synod' */
  clusterId?: string
  /** The shared cluster secret (at least 16 bytes). */
  secret: string
  /** Bearer token required from clients, if set. */
  token?: string | undefined
  /** Consensus tick in milliseconds; the election timeout is 10 ticks. @default 100 */
  tickMs?: number
  /**
   * Paxos only: slots between a membership change and the slot it governs from (α). Lower values
   * make changes take effect sooner; it also bounds the slots in flight. @default 1024
   */
  paxosActivationWindow?: number
  /**
   * Raft only: how followers learn a new commit index. `'lazy'` sends no append only to carry it
   * (followers learn it from the next append or heartbeat, and at once when a read or forwarded
   * proposal of theirs waits for it): two fewer messages and answers per commit when writes
   * trickle in, at the price of followers applying up to one tick later. @default 'lazy'
   */
  commitPropagation?: CommitPropagation
  logger: Logger
}

/** First byte of every command: which state machine of the node it is for. */
export const MachineTag = { kv: 1, lock: 2, directory: 3 } as const

type WireMessage = RaftWireMessage | PaxosWireMessage

export interface SynodNode extends NodeServices {
  /** The engine this node runs. */
  readonly engine: ConsensusEngine
  /** The consensus node (Raft or Paxos) behind the `ReplicatedLog` contract. */
  readonly consensus: ConsensusNode
  /** @deprecated Same as `consensus`, whichever the engine; kept for existing callers. */
  readonly raft: ConsensusNode
  readonly kv: KvStateMachine
  readonly transport: WsTransport<WireMessage>
}

/**
 * Wires transport-ws, file storage, Raft or Paxos, and the KV and lock state machines into one
 * node with an HTTP API (and optionally the WebSocket client API).
 */
export function createSynodNode (config: SynodNodeConfig): SynodNode {
  const engine = config.consensus ?? 'raft'
  if (!CONSENSUS_ENGINES.includes(engine)) throw new InvalidArgumentError(`consensus must be raft or paxos, got ${String(engine)}`, { field: 'consensus' })
  const commitPropagation = config.commitPropagation ?? 'lazy'
  if (commitPropagation !== 'lazy' && commitPropagation !== 'eager') throw new InvalidArgumentError(`commitPropagation must be lazy or eager, got ${String(commitPropagation)}`, { field: 'commitPropagation' })
  const logger = config.logger.child({ node: config.id })
  const addresses: Record<NodeId, string> = {}
  for (const [id, address] of config.members) addresses[id] = peerUrl(address)
  const bootstrap: ClusterConfig | undefined = config.join === true ? undefined : { voters: [...config.members.keys()], learners: [], addresses }
  const apiUrls = config.apiUrls ?? new Map<NodeId, string>()

  // A joining node knows the members it was given only as transport peers: it must be able to
  // answer the leader before it has learned the configuration (which then adds everyone else).
  const transport = createWsTransport<WireMessage>({
    nodeId: config.id,
    clusterId: config.clusterId ?? 'synod',
    secret: config.secret,
    listen: config.peerListen,
    peers: Object.fromEntries(Object.entries(addresses).filter(([id]) => id !== config.id)),
    isMessage: engine === 'raft' ? isRaftWireMessage : isPaxosWireMessage
  }, { clock: systemClock, random: systemRandom, logger: logger.child({ component: 'transport' }) })

  const kv = createKvStateMachine()
  const lockMachine = createLockStateMachine()
  // Client URLs of members added at runtime, replicated so every node can name them in leader
  // hints and on the dashboard; the maps below are what the APIs read.
  const wsUrls = config.clientWsUrls ?? new Map<NodeId, string>()
  const directory = createDirectoryStateMachine((id, urls) => {
    if (urls?.apiUrl === undefined) apiUrls.delete(id)
    else apiUrls.set(id, urls.apiUrl)
    if (urls?.wsUrl === undefined) wsUrls.delete(id)
    else wsUrls.set(id, urls.wsUrl)
  })
  const stateMachine = createMuxStateMachine(new Map<number, StateMachine<unknown>>([[MachineTag.kv, kv], [MachineTag.lock, lockMachine], [MachineTag.directory, directory]]))
  const storage = {
    log: createFileLogStorage({ dir: join(config.dataDir, 'wal') }),
    snapshots: createFileSnapshotStorage({ dir: join(config.dataDir, 'snapshots') }),
    stateMachine,
    clock: systemClock,
    random: systemRandom,
    logger: logger.child({ component: engine })
  }
  const tickMs = config.tickMs ?? 100
  const consensus: ConsensusNode = engine === 'raft'
    ? createRaftNode<unknown>({ id: config.id, bootstrap, tickMs, commitPropagation }, {
      ...storage,
      transport: transport as WsTransport<RaftWireMessage>,
      hardState: createFileHardStateStorage({ dir: config.dataDir })
    })
    : createPaxosNode<unknown>({ id: config.id, bootstrap, tickMs, activationWindow: config.paxosActivationWindow }, {
      ...storage,
      transport: transport as WsTransport<PaxosWireMessage>,
      hardState: createFileHardStateStorage<PaxosHardState>({ dir: config.dataDir })
    })

  const observability = createObservability(
    { nodeId: config.id, engine, apiUrls, token: config.token },
    { raft: consensus, transport, kv, logger: logger.child({ component: 'observability' }) }
  )
  // Times every proposal, KV and lock alike, for the proposal latency histogram.
  const observedLog = observability.instrumentLog(consensus)
  const kvLog = createTaggedLog<KvResult>(observedLog, MachineTag.kv)
  const locks = createLockService({ log: createTaggedLog(observedLog, MachineTag.lock), machine: lockMachine, clock: systemClock, logger })
  const directoryLog = createTaggedLog(observedLog, MachineTag.directory)

  const api = createHttpApi({
    token: config.token,
    engine,
    apiUrlOf: (id) => apiUrls.get(id)
  }, {
    log: kvLog,
    kv,
    locks,
    observability,
    apiUrls,
    admin: createGroupAdmin(kvLog, apiUrls, engine, async (request, signal) => {
      const command: DirectoryCommand = request.op === 'add'
        ? { op: 'set', id: request.id, ...(request.apiUrl === undefined ? {} : { apiUrl: request.apiUrl }), ...(request.wsUrl === undefined ? {} : { wsUrl: request.wsUrl }) }
        : { op: 'delete', id: request.id }
      await directoryLog.propose(encodeDirectoryCommand(command), { signal })
    }),
    logger: logger.child({ component: 'api' })
  })

  const wsApi = config.clientWsListen === undefined
    ? undefined
    : createWsApi({ listen: config.clientWsListen, token: config.token, apiUrlOf: (id) => wsUrls.get(id) }, { log: kvLog, kv, locks, logger })

  let started = false
  return {
    engine,
    consensus,
    raft: consensus,
    locks,
    kv,
    transport,
    api,
    wsApi,
    observability,
    async start () {
      if (started) return
      checkEngineMarker(config.dataDir, engine)
      await consensus.start()
      await openClientApis({ locks, api, wsApi }, config.apiListen)
      started = true
      logger.info({ engine, join: config.join === true, peer: `${config.peerListen.host}:${config.peerListen.port}`, api: `${config.apiListen.host}:${config.apiListen.port}` }, 'node started')
    },
    async stop () {
      if (!started) return
      started = false
      await closeClientApis({ locks, api, wsApi })
      await consensus.stop()
      logger.info({}, 'node stopped')
    }
  }
}

/** `host:port` as the transport dials it; a `ws://` or `wss://` URL is kept as given. */
export function peerUrl (address: string): string {
  return /^wss?:\/\//.test(address) ? address : `ws://${address}`
}

/**
 * Raft and Paxos keep different things in the same files (a term and vote, or a promised ballot),
 * so a data directory records the engine it was created with and refuses the other one.
 */
function checkEngineMarker (dataDir: string, engine: ConsensusEngine): void {
  if (existsSync(join(dataDir, 'SHARDS'))) throw new InvalidArgumentError(`${dataDir} holds a sharded node's state; start it with --shards`, { field: 'shards' })
  const marker = join(dataDir, 'ENGINE')
  if (existsSync(marker)) {
    const recorded = readFileSync(marker, 'utf8').trim()
    if (recorded !== engine) throw new InvalidArgumentError(`${dataDir} holds a ${recorded} node's state; start it with --consensus ${recorded}`, { field: 'consensus' })
    return
  }
  // Directories from before the marker existed were written by Raft, the only engine then.
  if (existsSync(join(dataDir, 'wal')) && engine !== 'raft') throw new InvalidArgumentError(`${dataDir} holds a raft node's state; start it with --consensus raft`, { field: 'consensus' })
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(marker, `${engine}\n`)
}
