import { readFileSync } from 'node:fs'
import { CONSENSUS_ENGINES, createSynodNode, type ConsensusEngine, type HostPort } from '../node.js'
import { createJsonLogger, parseLogLevel } from '../system/logger.js'
import type { NodeServices } from '../serving.js'
import { createShardedSynodNode, SHARD_STORAGE_KINDS, type ShardStorageKind } from '../sharded/sharded-node.js'
import { parsePeers, readOptions } from './args.js'
import type { CommitPropagation } from '@synod/raft'

export const startHelp = `synod start: run one node

  --id <id>                 this node's id (required)
  --listen <host:port>      peer address to listen on (required)
  --api <host:port>         client API (HTTP/JSON) address (required)
  --peers <id=host:port,..> every founding member's peer address, this node included (required);
                            with --join: members of the running cluster to reach
  --join                    join a running cluster: found nothing, learn the configuration from
                            the leader once a member has added this node (synod members add)
  --api-peers <id=url,..>   client API URL of each member, for leader hints
  --client-ws <host:port>   WebSocket + MessagePack client API (for @synod/client); off by default
  --client-ws-peers <id=ws://host:port,..>  its URL on each member, for leader hints
  --data-dir <dir>          where the log, hard state and snapshots live (required)
  --consensus raft|paxos    consensus engine (default raft); a data directory keeps its engine
  --shards <n>              split the key space into n Raft groups placed over the nodes by the
                            ring (Raft only; fixed for the cluster's life; every founding node
                            must be given the same --peers); off by default: one group
  --replication-factor <n>  voters per shard (default 3)
  --zone <name>             this node's failure domain: a shard's replicas spread over zones
  --shard-storage journal|log-per-shard  one journal per node for every shard's log and hard
                            state (default), or a file log per shard; a data directory keeps its kind
  --commit-propagation lazy|eager  Raft: tell followers a new commit index only with the next
                            append or heartbeat (lazy, default), or at once with an append each (eager)
  --paxos-activation-window <slots>  Paxos: slots before a membership change takes effect (default 1024)
  --secret-file <file>      file holding the cluster secret (or SYNOD_SECRET)
  --cluster-id <id>         cluster id (default synod)
  --token <token>           bearer token required from clients
  --tick-ms <ms>            consensus tick (default 100; election timeout is 10 ticks)
  --log-level <level>       trace|debug|info|warn|error|silent (default info); JSON lines (pino) on stderr

Every flag can also come from SYNOD_<FLAG> (e.g. SYNOD_DATA_DIR) or a JSON file given by --config.`

export function parseHostPort (text: string | undefined, flag: string): HostPort {
  const match = /^(.*):(\d+)$/.exec(text ?? '')
  if (match === null) throw new Error(`${flag} must be host:port, got "${text ?? ''}"`)
  return { host: match[1] ?? '127.0.0.1', port: Number(match[2]) }
}

export async function start (argv: string[]): Promise<number> {
  const { values } = readOptions(argv, {
    id: { type: 'string' },
    listen: { type: 'string' },
    api: { type: 'string' },
    peers: { type: 'string' },
    join: { type: 'boolean' },
    'paxos-activation-window': { type: 'string' },
    'commit-propagation': { type: 'string' },
    'api-peers': { type: 'string' },
    'client-ws': { type: 'string' },
    'client-ws-peers': { type: 'string' },
    'data-dir': { type: 'string' },
    consensus: { type: 'string' },
    shards: { type: 'string' },
    'replication-factor': { type: 'string' },
    zone: { type: 'string' },
    'shard-storage': { type: 'string' },
    'secret-file': { type: 'string' },
    secret: { type: 'string' },
    'cluster-id': { type: 'string' },
    token: { type: 'string' },
    'tick-ms': { type: 'string' },
    'log-level': { type: 'string' }
  })
  if (values.help === true) { console.log(startHelp); return 0 }
  const missing = ['id', 'listen', 'api', 'peers', 'data-dir'].filter((name) => typeof values[name] !== 'string')
  if (missing.length > 0) throw new Error(`missing ${missing.map((name) => `--${name}`).join(', ')} (see synod start --help)`)
  const consensus = (values.consensus ?? 'raft') as ConsensusEngine
  if (!CONSENSUS_ENGINES.includes(consensus)) throw new Error(`--consensus must be ${CONSENSUS_ENGINES.join(' or ')}, got "${String(values.consensus)}"`)
  const secret = typeof values['secret-file'] === 'string' ? readFileSync(values['secret-file'], 'utf8').trim() : values.secret
  if (typeof secret !== 'string' || secret.length < 16) throw new Error('a cluster secret of at least 16 characters is required (--secret-file or SYNOD_SECRET)')

  const id = values.id as string
  const members = parsePeers(values.peers as string)
  const join = values.join === true
  if (!join && !members.has(id)) throw new Error(`--peers must include this node (${id}), or pass --join to join a running cluster`)
  const level = parseLogLevel(values['log-level'])
  const common = {
    id,
    peerListen: parseHostPort(values.listen as string, '--listen'),
    apiListen: parseHostPort(values.api as string, '--api'),
    members,
    join,
    apiUrls: parsePeers(values['api-peers'] as string | undefined),
    clientWsListen: typeof values['client-ws'] === 'string' ? parseHostPort(values['client-ws'], '--client-ws') : undefined,
    clientWsUrls: parsePeers(values['client-ws-peers'] as string | undefined),
    dataDir: values['data-dir'] as string,
    clusterId: (values['cluster-id'] as string | undefined) ?? 'synod',
    secret,
    token: values.token as string | undefined,
    tickMs: values['tick-ms'] === undefined ? 100 : positiveInteger(values['tick-ms'], '--tick-ms'),
    ...(values['commit-propagation'] === undefined ? {} : { commitPropagation: commitPropagation(values['commit-propagation']) }),
    logger: createJsonLogger({ level })
  }
  let node: NodeServices
  if (values.shards === undefined) {
    node = createSynodNode({
      ...common,
      consensus,
      ...(values['paxos-activation-window'] === undefined ? {} : { paxosActivationWindow: positiveInteger(values['paxos-activation-window'], '--paxos-activation-window') })
    })
  } else {
    if (consensus !== 'raft') throw new Error('--shards runs Raft groups only; drop --consensus paxos')
    node = createShardedSynodNode({
      ...common,
      shards: positiveInteger(values.shards, '--shards'),
      ...(values['replication-factor'] === undefined ? {} : { replicationFactor: positiveInteger(values['replication-factor'], '--replication-factor') }),
      zone: values.zone as string | undefined,
      ...(values['shard-storage'] === undefined ? {} : { shardStorage: shardStorageKind(values['shard-storage']) })
    })
  }
  await node.start()
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await node.stop()
  return 0
}

function commitPropagation (value: string | boolean | undefined): CommitPropagation {
  if (value !== 'lazy' && value !== 'eager') throw new Error(`--commit-propagation must be lazy or eager, got "${String(value)}"`)
  return value
}

function shardStorageKind (value: string | boolean | undefined): ShardStorageKind {
  const kind = value as ShardStorageKind
  if (!SHARD_STORAGE_KINDS.includes(kind)) throw new Error(`--shard-storage must be ${SHARD_STORAGE_KINDS.join(' or ')}, got "${String(value)}"`)
  return kind
}

function positiveInteger (value: string | boolean | undefined, flag: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1) throw new Error(`${flag} must be a positive integer, got "${String(value)}"`)
  return number
}
