import { readFileSync } from 'node:fs'
import { createSynodNode, type HostPort } from '../node.js'
import { createJsonLogger } from '../system/logger.js'
import { parsePeers, readOptions } from './args.js'

export const startHelp = `synod start: run one node

  --id <id>                 this node's id (required)
  --listen <host:port>      peer address to listen on (required)
  --api <host:port>         client API (HTTP/JSON) address (required)
  --peers <id=host:port,..> every founding member's peer address, this node included (required)
  --api-peers <id=url,..>   client API URL of each member, for leader hints
  --client-ws <host:port>   WebSocket + MessagePack client API (for @synod/client); off by default
  --client-ws-peers <id=ws://host:port,..>  its URL on each member, for leader hints
  --data-dir <dir>          where the log, hard state and snapshots live (required)
  --consensus raft|paxos    consensus engine (default raft; paxos is not available yet)
  --secret-file <file>      file holding the cluster secret (or SYNOD_SECRET)
  --cluster-id <id>         cluster id (default synod)
  --token <token>           bearer token required from clients
  --tick-ms <ms>            Raft tick (default 100; election timeout is 10 ticks)
  --log-level <level>       trace|debug|info|warn|error (default info)

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
    'api-peers': { type: 'string' },
    'client-ws': { type: 'string' },
    'client-ws-peers': { type: 'string' },
    'data-dir': { type: 'string' },
    consensus: { type: 'string' },
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
  if ((values.consensus ?? 'raft') !== 'raft') throw new Error(`--consensus ${String(values.consensus)} is not available yet; use raft`)
  const secret = typeof values['secret-file'] === 'string' ? readFileSync(values['secret-file'], 'utf8').trim() : values.secret
  if (typeof secret !== 'string' || secret.length < 16) throw new Error('a cluster secret of at least 16 characters is required (--secret-file or SYNOD_SECRET)')

  const id = values.id as string
  const members = parsePeers(values.peers as string)
  if (!members.has(id)) throw new Error(`--peers must include this node (${id})`)
  const level = (values['log-level'] ?? 'info') as 'info'
  const node = createSynodNode({
    id,
    peerListen: parseHostPort(values.listen as string, '--listen'),
    apiListen: parseHostPort(values.api as string, '--api'),
    members,
    apiUrls: parsePeers(values['api-peers'] as string | undefined),
    clientWsListen: typeof values['client-ws'] === 'string' ? parseHostPort(values['client-ws'], '--client-ws') : undefined,
    clientWsUrls: parsePeers(values['client-ws-peers'] as string | undefined),
    dataDir: values['data-dir'] as string,
    clusterId: (values['cluster-id'] as string | undefined) ?? 'synod',
    secret,
    token: values.token as string | undefined,
    tickMs: values['tick-ms'] === undefined ? 100 : Number(values['tick-ms']),
    logger: createJsonLogger({ level })
  })
  await node.start()
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await node.stop()
  return 0
}
