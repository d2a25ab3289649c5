import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError, NotStartedError, type NodeId, type ReplicatedLog } from '@synod/interfaces'
import { createLockService, createLockStateMachine } from '@synod/lock'
import { createWsTransport, type WsTransport } from '@synod/transport-ws'
import { createHttpApi } from '../http/server.js'
import { createWsApi } from '../ws-api/index.js'
import { createObservability, type RaftSource } from '../observability/index.js'
import { peerUrl, type HostPort, type SynodNodeConfig } from '../node.js'
import {
  createShardHost, fileShardStorage, isMuxEnvelope, journalShardStorage,
  type MuxEnvelope, type ShardHost, type ShardMapView, type ShardMessage, type ShardNode
} from '../sharding/index.js'
import { systemClock, systemRandom } from '../system/clock.js'
import { closeClientApis, openClientApis, type NodeServices } from '../serving.js'
import { createShardedAdmin } from './admin.js'
import { createShardedKv } from './sharded-kv.js'

/** Written once this node has applied the cluster's metadata: from then on it restarts as a joiner. */
const MEMBER_MARKER = 'MEMBER'

/** How often a node moves leadership of the shards it leads to their preferred nodes, and how many at once. */
const LEADER_BALANCE_INTERVAL_MS = 2000
const LEADER_TRANSFERS_PER_ROUND = 4

/** A sharded node: the node's config plus how the key space is split. Raft only. */
export interface ShardedNodeConfig extends Omit<SynodNodeConfig, 'consensus' | 'paxosActivationWindow'> {
  /** Shards the key space is split into, fixed when the cluster is created. */
  shards: number
  /** Voters per shard. @default 3 */
  replicationFactor?: number
  /** This node's failure domain: replicas of a shard spread over zones first. */
  zone?: string | undefined
  /** Stop ticking idle shards. @default true */
  quiesce?: boolean
  /**
   * How shard logs are stored: `journal`, one shared journal per node for every shard's log and
   * hard state (one `fdatasync` covers all shards' writes), or `log-per-shard`, a file log per
   * shard. A data directory keeps the kind it was created with. @default 'journal'
   */
  shardStorage?: ShardStorageKind
}

/** The storage engines of a sharded node (see `ShardedNodeConfig.shardStorage`). */
export type ShardStorageKind = 'journal' | 'log-per-shard'
export const SHARD_STORAGE_KINDS: readonly ShardStorageKind[] = ['journal', 'log-per-shard']

export interface ShardedSynodNode extends NodeServices {
  readonly host: ShardHost
  readonly transport: WsTransport<MuxEnvelope<ShardMessage>>
}

/**
 * A node that hosts many Raft groups (shards) over one transport connection per peer, with the
 * metadata group (membership and placement) and the lock group beside them. The client APIs are
 * the single-group node's: a keyed request runs on its shard, locks on the lock group.
 */
export function createShardedSynodNode (config: ShardedNodeConfig): ShardedSynodNode {
  if (!Number.isSafeInteger(config.shards) || config.shards < 1 || config.shards > 4096) {
    throw new InvalidArgumentError(`shards must be an integer from 1 to 4096, got ${String(config.shards)}`, { field: 'shards' })
  }
  const logger = config.logger.child({ node: config.id })
  const apiUrls = new Map(config.apiUrls ?? [])
  const wsUrls = new Map(config.clientWsUrls ?? [])
  // This node's own client URLs come from where it listens when it was not told them.
  const listenUrl = (scheme: string, listen: HostPort): string => `${scheme}://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${listen.port}`
  if (!apiUrls.has(config.id)) apiUrls.set(config.id, listenUrl('http', config.apiListen))
  if (!wsUrls.has(config.id) && config.clientWsListen !== undefined) wsUrls.set(config.id, listenUrl('ws', config.clientWsListen))
  const members = new Map(config.members)
  if (!members.has(config.id)) {
    // A joining node is given the members to reach; it introduces itself with where it listens.
    if (config.join !== true) throw new InvalidArgumentError(`the node list must include this node (${config.id})`, { field: 'members' })
    members.set(config.id, `${config.peerListen.host}:${config.peerListen.port}`)
  }
  const nodes: ShardNode[] = [...members].map(([id, address]) => ({
    id,
    address: peerUrl(address),
    ...(id === config.id && config.zone !== undefined ? { zone: config.zone } : {}),
    ...(apiUrls.has(id) ? { apiUrl: apiUrls.get(id) } : {}),
    ...(wsUrls.has(id) ? { wsUrl: wsUrls.get(id) } : {})
  }))

  const transport = createWsTransport<MuxEnvelope<ShardMessage>>({
    nodeId: config.id,
    clusterId: config.clusterId ?? 'synod',
    secret: config.secret,
    listen: config.peerListen,
    peers: Object.fromEntries(nodes.filter((node) => node.id !== config.id).map((node) => [node.id, node.address])),
    isMessage: isMuxEnvelope
  }, { clock: systemClock, random: systemRandom, logger: logger.child({ component: 'transport' }) })

  const storageKind = config.shardStorage ?? 'journal'
  if (!SHARD_STORAGE_KINDS.includes(storageKind)) throw new InvalidArgumentError(`shard storage must be journal or log-per-shard, got ${String(storageKind)}`, { field: 'shardStorage' })
  const journalStorage = storageKind === 'journal' ? journalShardStorage({ dataDir: config.dataDir }) : undefined
  const lockMachine = createLockStateMachine()
  const host = createShardHost({
    nodeId: config.id,
    nodes,
    shardCount: config.shards,
    replicationFactor: config.replicationFactor ?? 3,
    // A node that has seen the cluster's metadata restarts as a joiner: it takes the placement from
    // its metadata replica (recovered from disk), not from the founding node list, which may be out
    // of date by now. A founder that stopped before the bootstrap was agreed founds again.
    join: config.join === true || existsSync(join(config.dataDir, MEMBER_MARKER)),
    tickMs: config.tickMs ?? 100,
    quiesce: config.quiesce ?? true,
    raft: { commitPropagation: config.commitPropagation ?? 'lazy' },
    lockGroup: { stateMachine: lockMachine }
  }, {
    transport,
    storage: journalStorage ?? fileShardStorage({ dataDir: config.dataDir }),
    clock: systemClock,
    random: systemRandom,
    logger: logger.child({ component: 'shards' })
  })
  // The lock group's replica exists once the host has started; the lock service and the metrics
  // reach it through this view, which they first use after that.
  const lockLog = lazyLog(config.id, () => {
    const log = host.lockLog()
    if (log === undefined) throw new NotStartedError('the node has not started its lock group yet')
    return log
  })

  // Client URLs: what the metadata group records wins over what this node was started with.
  const urlOf = (field: 'apiUrl' | 'wsUrl', given: ReadonlyMap<NodeId, string>) => (id: NodeId): string | undefined =>
    host.metadata()?.nodes.find((node) => node.id === id)?.[field] ?? given.get(id)
  const apiUrlOf = urlOf('apiUrl', apiUrls)
  const wsUrlOf = urlOf('wsUrl', wsUrls)

  const kvBackend = createShardedKv({ host, apiUrlOf, token: config.token })
  const status = (): object => ({
    ...lockLog.status(),
    id: config.id,
    engine: 'raft',
    sharding: {
      shardCount: host.shardCount,
      epoch: host.shardMap().epoch,
      rebalance: host.rebalanceStatus(),
      stats: summarize(host),
      shards: host.status()
    }
  })
  const shardMap = (urls: (id: NodeId) => string | undefined, field: 'apiUrl' | 'wsUrl') => (): ShardMapView => {
    const map = host.shardMap()
    return { ...map, nodes: map.nodes.map((node) => { const url = urls(node.id); return url === undefined ? node : { ...node, [field]: url } }) }
  }

  const observability = createObservability(
    { nodeId: config.id, engine: 'raft', apiUrls: apiUrls, token: config.token },
    {
      raft: lockLog as unknown as RaftSource,
      transport,
      kv: {
        size: () => host.status().reduce((sum, { shard }) => sum + (host.replica(shard)?.kv.size() ?? 0), 0),
        revision: () => host.status().reduce((max, { shard }) => Math.max(max, host.replica(shard)?.kv.revision() ?? 0), 0)
      },
      logger: logger.child({ component: 'observability' }),
      status: () => status()
    }
  )
  const locks = createLockService({ log: observability.instrumentLog(lockLog), machine: lockMachine, clock: systemClock, logger })
  const admin = createShardedAdmin(host, { status })

  const api = createHttpApi({ token: config.token, engine: 'raft', apiUrlOf }, {
    backend: kvBackend,
    admin,
    locks,
    observability,
    routes: new Map([['/v1/shards', shardMap(apiUrlOf, 'apiUrl')]]),
    logger: logger.child({ component: 'api' })
  })
  const wsApi = config.clientWsListen === undefined
    ? undefined
    : createWsApi({ listen: config.clientWsListen, token: config.token, apiUrlOf: wsUrlOf }, { backend: kvBackend, status, shardMap: shardMap(wsUrlOf, 'wsUrl'), locks, logger })

  let started = false
  let refreshUrls: ReturnType<typeof setInterval> | undefined
  let balancing: ReturnType<typeof setInterval> | undefined
  let balancingNow = false
  let memberMarked = existsSync(join(config.dataDir, MEMBER_MARKER))
  return {
    host,
    locks,
    transport,
    api,
    wsApi,
    observability,
    async start () {
      if (started) return
      checkShardedDataDir(config.dataDir, config.shards, storageKind)
      await host.start()
      await openClientApis({ locks, api, wsApi }, config.apiListen)
      // The dashboard and the status proxy list the members the metadata group knows.
      refreshUrls = setInterval(() => {
        for (const node of host.metadata()?.nodes ?? []) if (node.apiUrl !== undefined) apiUrls.set(node.id, node.apiUrl)
        if (!memberMarked && (host.metadata()?.epoch ?? 0) >= 1) {
          writeFileSync(join(config.dataDir, MEMBER_MARKER), `${host.metadata()?.epoch ?? 0}\n`)
          memberMarked = true
        }
      }, 1000)
      refreshUrls.unref()
      // Leaders carry the writes: keep moving shards' leadership to their preferred nodes (a few
      // transfers at a time), after an election or a rebalance left them elsewhere.
      balancing = setInterval(() => {
        if (balancingNow) return
        balancingNow = true
        host.balanceLeaders({ maxTransfers: LEADER_TRANSFERS_PER_ROUND })
          .catch((error: unknown) => { logger.debug({ err: error }, 'leader balancing round failed') })
          .finally(() => { balancingNow = false })
      }, LEADER_BALANCE_INTERVAL_MS)
      balancing.unref()
      started = true
      logger.info({ shards: config.shards, join: config.join === true, peer: `${config.peerListen.host}:${config.peerListen.port}`, api: `${config.apiListen.host}:${config.apiListen.port}` }, 'sharded node started')
    },
    async stop () {
      if (!started) return
      started = false
      clearInterval(refreshUrls)
      clearInterval(balancing)
      await closeClientApis({ locks, api, wsApi })
      await host.stop()
      await journalStorage?.journal.stop()
      logger.info({}, 'node stopped')
    }
  }
}

function summarize (host: ShardHost): object {
  const stats = host.stats()
  const local = host.status()
  return {
    hosted: local.length,
    leading: local.filter((shard) => shard.role === 'leader').length,
    awake: stats.awake,
    quiesced: stats.quiesced,
    deadPeers: stats.deadPeers
  }
}

/**
 * A sharded data directory records its shard count (keys map to shards by it) and is Raft's;
 * a single-group node's directory, or another shard count, is refused.
 */
function checkShardedDataDir (dataDir: string, shards: number, storage: ShardStorageKind): void {
  const marker = join(dataDir, 'SHARDS')
  const storageMarker = join(dataDir, 'SHARD_STORAGE')
  if (existsSync(marker)) {
    const recorded = Number(readFileSync(marker, 'utf8').trim())
    if (recorded !== shards) throw new InvalidArgumentError(`${dataDir} holds a cluster of ${recorded} shards; start it with --shards ${recorded}`, { field: 'shards' })
    // Directories from before the journal existed hold a log per shard.
    const kind = existsSync(storageMarker) ? readFileSync(storageMarker, 'utf8').trim() : 'log-per-shard'
    if (kind !== storage) throw new InvalidArgumentError(`${dataDir} holds shards stored as ${kind}; start it with --shard-storage ${kind}`, { field: 'shardStorage' })
    return
  }
  if (existsSync(join(dataDir, 'wal')) || existsSync(join(dataDir, 'ENGINE'))) {
    throw new InvalidArgumentError(`${dataDir} holds an unsharded node's state; start it without --shards`, { field: 'shards' })
  }
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(storageMarker, `${storage}\n`)
  writeFileSync(marker, `${shards}\n`)
}

/** A `ReplicatedLog` whose every member but its `id` is looked up on `resolve()` when used. */
function lazyLog (id: NodeId, resolve: () => ReplicatedLog<unknown>): ReplicatedLog<unknown> {
  return new Proxy({} as ReplicatedLog<unknown>, {
    get (_target, property) {
      if (property === 'id') return id
      const log = resolve()
      const value = Reflect.get(log, property, log) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(log) : value
    }
  })
}
