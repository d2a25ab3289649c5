import type { IncomingMessage } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { InvalidArgumentError, NotFoundError, NotLeaderError, isSynodError, type AbortOptions, type Logger, type ReplicatedLog, type Startable } from '@synod/interfaces'
import type { LockService } from '@synod/lock'
import { createRpcServer } from '@synod/transport-ws'
import type { KvCommand, KvResult } from '../kv/commands.js'
import { createGroupKv, UNSHARDED_MAP, type KvBackend } from '../kv/backend.js'
import type { KvRecord, KvStateMachine } from '../kv/state-machine.js'
import {
  DEFAULT_RANGE_LIMIT, parseWsRequest,
  type WsGetResponse, type WsItem, type WsRangeResponse, type WsRequest, type WsWriteResponse
} from './protocol.js'

export interface WsApiInit {
  /** Where to listen. Port 0 picks a free port (see `address`). */
  listen: { host?: string, port?: number }
  /** When set, the WebSocket upgrade request needs `Authorization: Bearer <token>`; others get HTTP 401. @default undefined */
  token?: string | undefined
  /** Largest request frame; a larger one closes the connection (WebSocket close 1009). @default 1048576 */
  maxRequestBytes?: number
  /** Requests one connection may have open at once; more are answered with `ERR_OVERLOADED`. @default 1024 */
  maxInFlightPerConnection?: number
  /** The WebSocket client API URL of another node, sent as `leaderUrl` with `ERR_NOT_LEADER`. @default undefined */
  apiUrlOf?: (nodeId: string) => string | undefined
}

export interface WsApiComponents {
  /** One consensus group's log and KV state machine (`status` answers the log's status). */
  log?: ReplicatedLog<KvResult> | undefined
  kv?: KvStateMachine | undefined
  /** Where KV requests go. @default createGroupKv(log, kv) */
  backend?: KvBackend | undefined
  /** What `status` answers. @default log.status() */
  status?: (() => object) | undefined
  /** What `shards` answers (a sharded node's map). @default `UNSHARDED_MAP` */
  shardMap?: (() => object) | undefined
  /** The node's lock service; without it the `lock.*` operations answer `ERR_NOT_FOUND`. */
  locks?: LockService | undefined
  logger: Logger
}

/** The WebSocket + MessagePack client API of a node, the one `@synod/client` speaks. */
export interface WsApi extends Startable {
  /** `ws://host:port` once started. */
  readonly address: string | undefined
  /** Open client connections. */
  connections(): number
}

/**
 * Creates the WebSocket client API: `get` (linearizable unless `consistency: 'serializable'`),
 * `range`, `put`, `del`, `cas`, `status`, and the lock service's `lock.execute` and
 * `lock.awaitGrant`, with the HTTP API's semantics and error codes. A
 * malformed request is answered with `ERR_INVALID_ARGUMENT` and the connection stays open.
 */
export function createWsApi (init: WsApiInit, components: WsApiComponents): WsApi {
  const { log, kv } = components
  if ((components.backend === undefined || components.status === undefined) && (log === undefined || kv === undefined)) {
    throw new InvalidArgumentError('the WebSocket API needs a log and a KV state machine, or a backend and a status', { field: 'components' })
  }
  const backend = components.backend ?? createGroupKv(log as ReplicatedLog<KvResult>, kv as KvStateMachine)
  const status = components.status ?? (() => (log as ReplicatedLog<KvResult>).status())
  const shardMap = components.shardMap ?? (() => UNSHARDED_MAP)
  const logger = components.logger.child({ component: 'ws-api' })
  const expected = init.token === undefined ? undefined : Buffer.from(`Bearer ${init.token}`)

  async function handle (body: unknown, options: AbortOptions): Promise<unknown> {
    const request = parseWsRequest(body)
    try {
      return await serve(request, options)
    } catch (error) {
      throw withLeaderUrl(error)
    }
  }

  async function serve (request: WsRequest, options: AbortOptions): Promise<unknown> {
    switch (request.op) {
      case 'status': return status()
      case 'shards': return shardMap()
      case 'get': {
        const { revision, record } = await backend.get(request.key, { ...options, consistency: request.consistency })
        const response: WsGetResponse = { revision, item: record === undefined ? null : toItem(request.key, record) }
        return response
      }
      case 'range': {
        const limit = request.limit ?? DEFAULT_RANGE_LIMIT
        const { revision, rows, more } = await backend.range(request.prefix ?? '', limit, { ...options, consistency: request.consistency })
        const response: WsRangeResponse = { revision, items: rows.map(([key, record]) => toItem(key, record)), more }
        return response
      }
      case 'put': return write({ op: 'put', key: request.key, value: request.value, ...session(request) }, options)
      case 'del': return write({ op: 'del', key: request.key, ...session(request) }, options)
      case 'cas': {
        const command: KvCommand = { op: 'cas', key: request.key, value: request.value, ...session(request) }
        if (request.expectedValue !== undefined) command.expectedValue = request.expectedValue
        if (request.expectedRevision !== undefined) command.expectedRevision = request.expectedRevision
        return write(command, options)
      }
      case 'lock.execute': {
        const locks = lockService()
        return locks.execute(request.request, request.timeoutMs === undefined ? options : { ...options, timeoutMs: request.timeoutMs })
      }
      // A long wait, ended by the grant, the session's end, or the client's cancel frame or disconnect.
      case 'lock.awaitGrant': return lockService().awaitGrant(request.wait, options)
    }
  }

  function lockService (): LockService {
    if (components.locks === undefined) throw new NotFoundError('this node serves no locks')
    return components.locks
  }

  async function write (command: KvCommand, options: AbortOptions): Promise<WsWriteResponse> {
    const { index, result } = await backend.write(command, options)
    const response: WsWriteResponse = { ok: result.ok, revision: result.revision, index }
    if (result.previous !== undefined) response.previous = result.previous
    return response
  }

  function withLeaderUrl (error: unknown): unknown {
    if (!isSynodError(error, NotLeaderError.code)) {
      if (!isSynodError(error)) logger.error({ err: error }, 'unexpected error serving a request')
      return error
    }
    const { leaderHint: hint, term, shard, epoch } = error as NotLeaderError & { shard?: number, epoch?: number }
    const url = hint === undefined ? undefined : init.apiUrlOf?.(hint)
    if (url === undefined && shard === undefined) return error
    return Object.assign(new NotLeaderError(error.message, { leaderHint: hint, term }), {
      ...(url === undefined ? {} : { leaderUrl: url }),
      ...(shard === undefined ? {} : { shard, epoch })
    })
  }

  function authenticate (request: IncomingMessage): true | undefined {
    if (expected === undefined) return true
    const given = Buffer.from(request.headers.authorization ?? '')
    return given.length === expected.length && timingSafeEqual(given, expected) ? true : undefined
  }

  return createRpcServer<unknown, unknown, true>({
    handler: async (body, context) => handle(body, { signal: context.signal }),
    ...(init.token === undefined ? {} : { authenticate }),
    listen: init.listen,
    maxRequestBytes: init.maxRequestBytes ?? 1024 * 1024,
    maxInFlightPerConnection: init.maxInFlightPerConnection ?? 1024
  }, { logger })
}

function session (request: { client?: string, seq?: number }): { client?: string, seq?: number } {
  return request.client !== undefined && request.seq !== undefined ? { client: request.client, seq: request.seq } : {}
}

function toItem (key: string, record: KvRecord): WsItem {
  return { key, value: record.value, createRevision: record.createRevision, modRevision: record.modRevision, version: record.version }
}
