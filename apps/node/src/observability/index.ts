/**
 * Observability for a Synod node: `GET /metrics` (Prometheus text format, prom-client, one
 * registry per node), `GET /dashboard` (a self-contained live page), `GET /v1/cluster` (members
 * and their API URLs) and `GET /v1/cluster/status` (every member's `/v1/status`, fetched by this
 * node so the page needs no cross-origin requests).
 *
 * @example
 * ```ts
 * const observability = createObservability({ nodeId: 'n1', apiUrls }, { raft, transport, kv, logger })
 * const server = createServer((req, res) => {
 *   if (observability.handle(req, res)) return
 *   // ... the node's own API, timing each request for observability.recordHttp(route, status, ms)
 * })
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { Logger, NodeId, ReplicatedLog } from '@synod/interfaces'
import type { Registry } from 'prom-client'
import { fetchClusterStatus } from './cluster-status.js'
import { DASHBOARD_HTML } from './dashboard-page.js'
import { instrumentLog } from './instrument-log.js'
import { createNodeMetrics, type KvSource, type RaftSource, type TransportSource } from './metrics.js'

export type { ClusterStatus, MemberStatus } from './cluster-status.js'
export type { KvSource, RaftSource, TransportSource } from './metrics.js'

export interface ObservabilityInit {
  /** This node's id; also the `node` label on every metric. */
  nodeId: NodeId
  /**
   * The consensus engine, reported by `synod_consensus_info{engine}` and `/v1/cluster`. The
   * `synod_raft_*` metrics report whichever engine runs (Paxos maps its ballot round to the term
   * and its slots to log indexes). @default 'raft'
   */
  engine?: 'raft' | 'paxos'
  /** Client API URL of every member (this node may be included), for the dashboard and the status proxy. */
  apiUrls?: ReadonlyMap<NodeId, string> | undefined
  /**
   * When set, `/v1/cluster` and `/v1/cluster/status` need `Authorization: Bearer <token>`, as the
   * node's own API does, and the status proxy sends it to the members. `/metrics` and `/dashboard`
   * stay open (the page holds no data; it reads a token from its URL fragment `#token=`).
   */
  token?: string | undefined
  /** How long the status proxy waits for each member. @default 1000 */
  statusTimeoutMs?: number
  /** Also export process metrics (CPU, memory, event loop lag, GC) with the `synod_` prefix. @default true */
  processMetrics?: boolean
}

export interface ObservabilityComponents {
  /** The consensus node (Raft or Paxos: both report this shape). */
  raft: RaftSource
  transport: TransportSource
  kv: KvSource
  logger: Logger
  /** This node's own `/v1/status` answer for the cluster view. @default the consensus status plus `engine` */
  status?: (() => object) | undefined
  /** For the status proxy. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch
}

export interface Observability {
  /** The node's metrics registry. */
  readonly registry: Registry
  /**
   * Serves the observability routes. Returns true when it took the request (it then answers it,
   * 405 for a wrong method); false leaves the request untouched for the caller.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean
  /** Counts one request served by the node's API; `route` must be a pattern (`/v1/kv/:key`), never a raw path. */
  recordHttp: (route: string, status: number, ms: number) => void
  /** A view of `log` that records every proposal's latency in `synod_proposal_duration_seconds`. */
  instrumentLog<Result>(log: ReplicatedLog<Result>): ReplicatedLog<Result>
  /** The Prometheus text exposition, as `GET /metrics` serves it. */
  scrape(): Promise<string>
}

const ROUTES = new Set(['/metrics', '/dashboard', '/v1/cluster', '/v1/cluster/status'])

/** Creates the observability routes and metrics of one node. */
export function createObservability (init: ObservabilityInit, components: ObservabilityComponents): Observability {
  const logger = components.logger
  const apiUrls = init.apiUrls ?? new Map<NodeId, string>()
  const engine = init.engine ?? 'raft'
  const metrics = createNodeMetrics(components, { nodeId: init.nodeId, engine, processMetrics: init.processMetrics ?? true })
  const expectedToken = init.token === undefined ? undefined : Buffer.from(`Bearer ${init.token}`)
  const statusTimeoutMs = init.statusTimeoutMs ?? 1000
  const fetchImpl = components.fetch ?? globalThis.fetch

  function authorized (req: IncomingMessage): boolean {
    if (expectedToken === undefined) return true
    const given = Buffer.from(req.headers.authorization ?? '')
    return given.length === expectedToken.length && timingSafeEqual(given, expectedToken)
  }

  async function serve (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'ERR_METHOD', message: `use GET for ${path}` } })
    switch (path) {
      case '/metrics':
        return send(res, 200, metrics.registry.contentType, await metrics.registry.metrics())
      case '/dashboard':
        return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML)
      default: {
        if (!authorized(req)) return sendJson(res, 401, { error: { code: 'ERR_UNAUTHORIZED', message: 'missing or wrong bearer token' } })
        if (path === '/v1/cluster') {
          // The configuration this node knows, plus any member whose API URL it was given.
          const config = components.raft.status().config
          const known = config === undefined ? [] : [...config.voters, ...config.learners, ...(config.outgoingVoters ?? [])]
          const ids = [...new Set([init.nodeId, ...known, ...apiUrls.keys()])].sort()
          return sendJson(res, 200, { self: init.nodeId, members: ids.map((id) => ({ id, apiUrl: apiUrls.get(id) })) })
        }
        const abort = new AbortController()
        res.once('close', () => { abort.abort() })
        const status = await fetchClusterStatus({
          self: init.nodeId,
          apiUrls,
          localStatus: components.status ?? (() => ({ ...components.raft.status(), engine })),
          timeoutMs: statusTimeoutMs,
          token: init.token,
          fetch: fetchImpl
        }, abort.signal)
        return sendJson(res, 200, status)
      }
    }
  }

  return {
    registry: metrics.registry,
    handle (req, res) {
      const path = pathOf(req.url)
      if (!ROUTES.has(path)) return false
      const started = performance.now()
      serve(req, res, path).then(
        (status) => { metrics.recordHttp(path, status, performance.now() - started) },
        (error: unknown) => {
          logger.error({ err: error, path }, 'observability route failed')
          metrics.recordHttp(path, 500, performance.now() - started)
          sendJson(res, 500, { error: { code: 'ERR_INTERNAL', message: 'internal error' } })
        }
      )
      return true
    },
    recordHttp: metrics.recordHttp,
    instrumentLog: (log) => instrumentLog(log, metrics.recordProposal),
    scrape: async () => await metrics.registry.metrics()
  }
}

function pathOf (url: string | undefined): string {
  const raw = url ?? '/'
  const query = raw.indexOf('?')
  const path = query === -1 ? raw : raw.slice(0, query)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

function sendJson (res: ServerResponse, status: number, body: unknown): number {
  return send(res, status, 'application/json', JSON.stringify(body))
}

function send (res: ServerResponse, status: number, contentType: string, body: string): number {
  if (res.headersSent) return status
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    // Read-only routes; lets a dashboard or tool on another origin read them.
    'access-control-allow-origin': '*'
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
  return status
}
