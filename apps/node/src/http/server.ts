import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { InvalidArgumentError, TooLargeError, isSynodError, type Logger, type ReplicatedLog } from '@synod/interfaces'
import type { KvCommand, KvResult } from '../kv/commands.js'
import { createGroupKv, UNSHARDED_MAP, type Consistency, type KvBackend } from '../kv/backend.js'
import type { KvStateMachine } from '../kv/state-machine.js'
import type { LockServer } from '@synod/lock'
import { createGroupAdmin, type ClusterAdmin } from './admin.js'
import { serveLocks } from './locks.js'
import type { Observability } from '../observability/index.js'
import { decodeValue, encodeValue, recordToJson } from './values.js'

export interface HttpApiInit {
  /** Largest request body accepted. @default 1048576 */
  maxBodyBytes?: number
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined
  /** The client API URL of another node, for leader hints. */
  apiUrlOf?: (nodeId: string) => string | undefined
  /** The consensus engine, reported by `/v1/status`. @default 'raft' */
  engine?: 'raft' | 'paxos'
}

export interface HttpApiComponents {
  /** One consensus group's log and KV state machine; ignored for what `backend` and `admin` give. */
  log?: ReplicatedLog<KvResult> | undefined
  kv?: KvStateMachine | undefined
  /** Where KV requests go. @default createGroupKv(log, kv) */
  backend?: KvBackend | undefined
  /** The status, snapshot and members routes. @default createGroupAdmin(log, apiUrls, engine), URLs kept local */
  admin?: ClusterAdmin | undefined
  /** Extra read-only routes (path to answer), e.g. a sharded node's `/v1/shards`. */
  routes?: ReadonlyMap<string, () => object> | undefined
  /** This replica's lock service; without it the /v1/locks routes answer 404. */
  locks?: LockServer | undefined
  /** Metrics, dashboard and cluster routes; served before the API. */
  observability?: Pick<Observability, 'handle' | 'recordHttp'> | undefined
  /**
   * Client API URL of each member, listed by `/v1/members`; a member added with an `apiUrl` is
   * recorded in it (and forgotten when removed). @default an empty map
   */
  apiUrls?: Map<string, string> | undefined
  logger: Logger
}

class HttpError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message)
  }
}

/**
 * The HTTP/JSON client API: `/v1/kv/:key` (GET, PUT, DELETE), `/v1/kv/:key/cas` (POST),
 * `/v1/kv?prefix=` (GET), `/v1/status` (GET), `/v1/members` (GET, POST). Errors are JSON `{ error: { code, message } }`
 * with a 4xx/5xx status; a bad request never disturbs the node.
 */
export function createHttpApi (init: HttpApiInit, components: HttpApiComponents): Server {
  const maxBodyBytes = init.maxBodyBytes ?? 1024 * 1024
  const { logger } = components
  const apiUrls = components.apiUrls ?? new Map<string, string>()
  const engine = init.engine ?? 'raft'
  const { log, kv } = components
  if ((components.backend === undefined || components.admin === undefined) && (log === undefined || kv === undefined)) {
    throw new InvalidArgumentError('the HTTP API needs a log and a KV state machine, or a backend and an admin', { field: 'components' })
  }
  const backend = components.backend ?? createGroupKv(log as ReplicatedLog<KvResult>, kv as KvStateMachine)
  const admin = components.admin ?? createGroupAdmin(log as ReplicatedLog<KvResult>, apiUrls, engine)
  const expectedToken = init.token === undefined ? undefined : Buffer.from(`Bearer ${init.token}`)

  async function route (req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    if (expectedToken !== undefined) {
      const given = Buffer.from(req.headers.authorization ?? '')
      if (given.length !== expectedToken.length || !timingSafeEqual(given, expectedToken)) {
        throw new HttpError(401, 'ERR_UNAUTHORIZED', 'missing or wrong bearer token')
      }
    }
    const path = url.pathname
    if (path === '/v1/status' && req.method === 'GET') return [200, admin.status()]
    const extra = components.routes?.get(path)
    if (extra !== undefined) {
      if (req.method !== 'GET') throw new HttpError(405, 'ERR_METHOD', `use GET for ${path}`)
      return [200, extra()]
    }
    // One group: the same shape as a sharded node's map, with no shards (clients route as before).
    if (path === '/v1/shards' && req.method === 'GET') return [200, UNSHARDED_MAP]
    if (path === '/v1/snapshot') {
      // A backup point: the state machine as of `index`, written under <data-dir>/snapshots/.
      if (req.method !== 'POST') throw new HttpError(405, 'ERR_METHOD', 'use POST for /v1/snapshot')
      const meta = await admin.snapshot()
      logger.info({ snapshot: meta }, 'snapshot taken on request')
      return [200, meta]
    }
    if (path === '/v1/members') {
      if (req.method === 'GET') return [200, await admin.members({ linearizable: consistencyOf(url) === 'linearizable' })]
      if (req.method !== 'POST') throw new HttpError(405, 'ERR_METHOD', 'use GET or POST for /v1/members')
      const body = await readJson(req)
      // A client that goes away stops the wait, not the change (it may already be in the log).
      const gone = new AbortController()
      const onClose = (): void => { gone.abort() }
      req.socket.once('close', onClose)
      try {
        const { view, op, id } = await admin.changeMembers(body, { signal: gone.signal })
        logger.info({ op, member: id }, 'membership changed')
        return [200, view]
      } finally {
        req.socket.off('close', onClose)
      }
    }
    if ((path === '/v1/locks/execute' || path === '/v1/locks/await-grant') && components.locks !== undefined) {
      if (req.method !== 'POST') throw new HttpError(405, 'ERR_METHOD', `use POST for ${path}`)
      return [200, await serveLocks(components.locks, path, await readJson(req), req)]
    }
    if (path === '/v1/kv' && req.method === 'GET') {
      const consistency = consistencyOf(url)
      const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : 1000
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'limit must be an integer from 1 to 10000')
      const prefix = url.searchParams.get('prefix') ?? ''
      const shard = url.searchParams.get('shard')
      if (shard !== null && (backend.rangeShard === undefined || !/^\d{1,9}$/.test(shard))) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'shard must be a shard number, on a sharded node')
      const { revision, rows, more } = shard === null
        ? await backend.range(prefix, limit, { consistency })
        : await (backend.rangeShard as NonNullable<KvBackend['rangeShard']>)(Number(shard), prefix, limit, { consistency })
      return [200, { revision, items: rows.map(([key, record]) => recordToJson(key, record)), more }]
    }
    const match = /^\/v1\/kv\/(.+?)(\/cas)?$/.exec(path)
    if (match === null) throw new HttpError(404, 'ERR_NOT_FOUND', `no route for ${req.method ?? ''} ${path}`)
    const key = decodeURIComponent(match[1] ?? '')
    if (match[2] === '/cas') {
      if (req.method !== 'POST') throw new HttpError(405, 'ERR_METHOD', 'use POST for cas')
      const body = await readJson(req)
      const value = decodeValue(body.value, body.encoding)
      if (value === undefined) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'body.value must be a string')
      const command: KvCommand = { op: 'cas', key, value, ...clientFields(body) }
      if (body.expectedValue === null) command.expectedValue = null
      else if (body.expectedValue !== undefined) command.expectedValue = decodeValue(body.expectedValue, body.encoding)
      if (body.expectedRevision !== undefined) {
        if (typeof body.expectedRevision !== 'number') throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'expectedRevision must be a number')
        command.expectedRevision = body.expectedRevision
      }
      return [200, await write(command)]
    }
    switch (req.method) {
      case 'GET': {
        const { revision, record } = await backend.get(key, { consistency: consistencyOf(url) })
        if (record === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', `key ${key} not found`, { revision })
        return [200, recordToJson(key, record)]
      }
      case 'PUT': return [200, await write({ op: 'put', key, value: await readBody(req) })]
      case 'DELETE': return [200, await write({ op: 'del', key })]
      default: throw new HttpError(405, 'ERR_METHOD', `${req.method ?? ''} not allowed on ${path}`)
    }
  }

  async function write (command: KvCommand): Promise<Record<string, unknown>> {
    const { index, result } = await backend.write(command)
    return { ok: result.ok, revision: result.revision, index, ...(result.previous === undefined ? {} : { previous: encodeValue(result.previous) }) }
  }

  function consistencyOf (url: URL): Consistency {
    const consistency = url.searchParams.get('consistency') ?? 'linearizable'
    if (consistency !== 'serializable' && consistency !== 'linearizable') throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'consistency is linearizable or serializable')
    return consistency
  }

  async function readBody (req: IncomingMessage): Promise<Uint8Array> {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > maxBodyBytes) throw new TooLargeError(declared, maxBodyBytes)
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      if (size > maxBodyBytes) throw new TooLargeError(size, maxBodyBytes)
      chunks.push(chunk)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }

  async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readBody(req)
    let parsed: unknown
    try {
      parsed = JSON.parse(new TextDecoder().decode(body))
    } catch {
      throw new HttpError(400, 'ERR_BAD_REQUEST', 'body is not valid JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'ERR_BAD_REQUEST', 'body must be a JSON object')
    return parsed as Record<string, unknown>
  }

  function clientFields (body: Record<string, unknown>): { client?: string, seq?: number } {
    return typeof body.client === 'string' && typeof body.seq === 'number' ? { client: body.client, seq: body.seq } : {}
  }

  function toHttpError (error: unknown): HttpError {
    if (error instanceof HttpError) return error
    if (isSynodError(error)) {
      const { code, message } = error
      switch (code) {
        case 'ERR_NOT_LEADER': {
          const { leaderHint: leader, shard, epoch } = error as { leaderHint?: string, shard?: number, epoch?: number }
          return new HttpError(421, code, message, { leaderHint: leader, leaderUrl: leader === undefined ? undefined : init.apiUrlOf?.(leader), shard, epoch })
        }
        case 'ERR_TOO_LARGE': return new HttpError(413, code, message)
        case 'ERR_TIMEOUT': case 'ERR_ABORTED': return new HttpError(504, code, message, { indeterminate: (error as { indeterminate?: boolean }).indeterminate ?? true })
        case 'ERR_OVERLOADED': return new HttpError(429, code, message)
        case 'ERR_SESSION_EXPIRED': return new HttpError(410, code, message)
        case 'ERR_NOT_HELD': case 'ERR_INVALID_MEMBERSHIP': return new HttpError(409, code, message)
        case 'ERR_BAD_FRAME': case 'ERR_INVALID_ARGUMENT': return new HttpError(400, code, message)
        default: return new HttpError(503, code, message)
      }
    }
    logger.error({ err: error }, 'unexpected error serving a request')
    return new HttpError(500, 'ERR_INTERNAL', 'internal error')
  }

  return createServer((req, res) => {
    if (components.observability?.handle(req, res) === true) return
    const started = performance.now()
    const url = new URL(req.url ?? '/', 'http://localhost')
    const label = routeLabel(req.method, url.pathname)
    res.once('finish', () => { components.observability?.recordHttp(label, res.statusCode, performance.now() - started) })
    route(req, url).then(([status, body]) => { send(res, status, body) }, (error: unknown) => {
      const httpError = toHttpError(error)
      send(res, httpError.status, { error: { code: httpError.code, message: httpError.message, ...httpError.extra } })
      // Drain what is left of a refused body so the connection stays usable, without buffering it.
      req.resume()
    })
  })
}

/** A bounded metric label: never the raw path (every key would become its own series). */
function routeLabel (method = 'GET', path: string): string {
  if (path === '/v1/status' || path === '/v1/shards' || path === '/v1/members' || path === '/v1/snapshot' || path === '/v1/kv' || path === '/v1/locks/execute' || path === '/v1/locks/await-grant') return `${method} ${path}`
  if (/^\/v1\/kv\/.+\/cas$/.test(path)) return `${method} /v1/kv/:key/cas`
  if (path.startsWith('/v1/kv/')) return `${method} /v1/kv/:key`
  return 'other'
}

function send (res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}
