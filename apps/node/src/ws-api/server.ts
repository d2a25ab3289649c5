import type { IncomingMessage } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { NotFoundError, NotLeaderError, isSynodError, type AbortOptions, type Logger, type ReplicatedLog, type Startable } from '@synod/interfaces'
import type { LockService } from '@synod/lock'
import { createRpcServer } from '@synod/transport-ws'
import { encodeCommand, type KvCommand, type KvResult } from '../kv/commands.js'
import type { KvRecord, KvStateMachine } from '../kv/state-machine.js'
import {
  DEFAULT_RANGE_LIMIT, parseWsRequest,
  type Consistency, type WsGetResponse, type WsItem, type WsRangeResponse, type WsRequest, type WsWriteResponse
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
  log: ReplicatedLog<KvResult>
  kv: KvStateMachine
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
      case 'status': return log.status()
      case 'get': {
        await readBarrier(request.consistency, options)
        const record = kv.get(request.key)
        const response: WsGetResponse = { revision: kv.revision(), item: record === undefined ? null : toItem(request.key, record) }
        return response
      }
      case 'range': {
        await readBarrier(request.consistency, options)
        const limit = request.limit ?? DEFAULT_RANGE_LIMIT
        const rows = kv.range({ prefix: request.prefix ?? '', limit: limit + 1 })
        const response: WsRangeResponse = {
          revision: kv.revision(),
          items: rows.slice(0, limit).map(([key, record]) => toItem(key, record)),
          more: rows.length > limit
        }
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
    const { index, result } = await log.propose(encodeCommand(command), options)
    const response: WsWriteResponse = { ok: result.ok, revision: result.revision, index }
    if (result.previous !== undefined) response.previous = result.previous
    return response
  }

  async function readBarrier (consistency: Consistency | undefined, options: AbortOptions): Promise<void> {
    if (consistency === 'serializable') return
    await log.readBarrier(options)
  }

  function withLeaderUrl (error: unknown): unknown {
    if (!isSynodError(error, NotLeaderError.code)) {
      if (!isSynodError(error)) logger.error({ err: error }, 'unexpected error serving a request')
      return error
    }
    const hint = (error as NotLeaderError).leaderHint
    const url = hint === undefined ? undefined : init.apiUrlOf?.(hint)
    if (url === undefined) return error
    return Object.assign(new NotLeaderError(error.message, { leaderHint: hint, term: (error as NotLeaderError).term }), { leaderUrl: url })
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
