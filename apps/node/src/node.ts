import { once } from 'node:events'
import type { Server } from 'node:http'
import { join } from 'node:path'
import type { ClusterConfig, Logger, NodeId, StateMachine } from '@synod/interfaces'
import { createLockService, createLockStateMachine, type LockService } from '@synod/lock'
import { createRaftNode, isWireMessage, type RaftNode, type RaftWireMessage } from '@synod/raft'
import { createFileHardStateStorage, createFileLogStorage, createFileSnapshotStorage } from '@synod/storage'
import { createWsTransport, type WsTransport } from '@synod/transport-ws'
import { createHttpApi } from './http/server.js'
import { createWsApi, type WsApi } from './ws-api/index.js'
import { createObservability, type Observability } from './observability/index.js'
import type { KvResult } from './kv/commands.js'
import { createKvStateMachine, type KvStateMachine } from './kv/state-machine.js'
import { createMuxStateMachine } from './mux/state-machine.js'
import { createTaggedLog } from './mux/tagged-log.js'
import { systemClock, systemRandom } from './system/clock.js'

export interface HostPort { host: string, port: number }

/** Everything one Synod node process needs to know. */
export interface SynodNodeConfig {
  id: NodeId
  /** Where peers connect (the Raft transport). */
  peerListen: HostPort
  /** Where clients connect (HTTP/JSON API). */
  apiListen: HostPort
  /** Every founding member's peer address (`host:port`), this node included. */
  members: Map<NodeId, string>
  /** Client API URL of each member, for leader hints. */
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
  /** Raft tick in milliseconds; the election timeout is 10 ticks. @default 100 */
  tickMs?: number
  logger: Logger
}

/** First byte of every command: which state machine of the node it is for. */
export const MachineTag = { kv: 1, lock: 2 } as const

export interface SynodNode {
  readonly raft: RaftNode<unknown>
  readonly locks: LockService
  readonly kv: KvStateMachine
  readonly transport: WsTransport<RaftWireMessage>
  readonly api: Server
  readonly wsApi: WsApi | undefined
  readonly observability: Observability
  start(): Promise<void>
  stop(): Promise<void>
}

/** Wires transport-ws, file storage, Raft and the KV state machine into one node with an HTTP API. */
export function createSynodNode (config: SynodNodeConfig): SynodNode {
  const logger = config.logger.child({ node: config.id })
  const addresses: Record<NodeId, string> = {}
  for (const [id, address] of config.members) addresses[id] = `ws://${address}`
  const bootstrap: ClusterConfig = { voters: [...config.members.keys()], learners: [], addresses }

  const transport = createWsTransport<RaftWireMessage>({
    nodeId: config.id,
    clusterId: config.clusterId ?? 'synod',
    secret: config.secret,
    listen: config.peerListen,
    peers: Object.fromEntries(Object.entries(addresses).filter(([id]) => id !== config.id)),
    isMessage: isWireMessage
  }, { clock: systemClock, random: systemRandom, logger: logger.child({ component: 'transport' }) })

  const kv = createKvStateMachine()
  const lockMachine = createLockStateMachine()
  const stateMachine = createMuxStateMachine(new Map<number, StateMachine<unknown>>([[MachineTag.kv, kv], [MachineTag.lock, lockMachine]]))
  const raft = createRaftNode<unknown>({
    id: config.id,
    bootstrap,
    tickMs: config.tickMs ?? 100
  }, {
    transport,
    log: createFileLogStorage({ dir: join(config.dataDir, 'wal') }),
    hardState: createFileHardStateStorage({ dir: config.dataDir }),
    snapshots: createFileSnapshotStorage({ dir: join(config.dataDir, 'snapshots') }),
    stateMachine,
    clock: systemClock,
    random: systemRandom,
    logger: logger.child({ component: 'raft' })
  })

  const observability = createObservability(
    { nodeId: config.id, apiUrls: config.apiUrls, token: config.token },
    { raft, transport, kv, logger: logger.child({ component: 'observability' }) }
  )
  // Times every proposal, KV and lock alike, for the proposal latency histogram.
  const observedLog = observability.instrumentLog(raft)
  const kvLog = createTaggedLog<KvResult>(observedLog, MachineTag.kv)
  const locks = createLockService({ log: createTaggedLog(observedLog, MachineTag.lock), machine: lockMachine, clock: systemClock, logger })

  const api = createHttpApi({
    token: config.token,
    apiUrlOf: (id) => config.apiUrls?.get(id)
  }, { log: kvLog, kv, locks, observability, logger: logger.child({ component: 'api' }) })

  const wsApi = config.clientWsListen === undefined
    ? undefined
    : createWsApi({ listen: config.clientWsListen, token: config.token, apiUrlOf: (id) => config.clientWsUrls?.get(id) }, { log: kvLog, kv, locks, logger })

  let started = false
  return {
    raft,
    locks,
    kv,
    transport,
    api,
    wsApi,
    observability,
    async start () {
      if (started) return
      await raft.start()
      await locks.start()
      await wsApi?.start()
      api.listen(config.apiListen.port, config.apiListen.host)
      await once(api, 'listening')
      started = true
      logger.info({ peer: `${config.peerListen.host}:${config.peerListen.port}`, api: `${config.apiListen.host}:${config.apiListen.port}` }, 'node started')
    },
    async stop () {
      if (!started) return
      started = false
      api.closeAllConnections()
      await new Promise<void>((resolve) => { api.close(() => { resolve() }) })
      await wsApi?.stop()
      await locks.stop()
      await raft.stop()
      logger.info({}, 'node stopped')
    }
  }
}
