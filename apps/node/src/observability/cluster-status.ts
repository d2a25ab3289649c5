import type { NodeId } from '@synod/interfaces'

/** One member as the dashboard sees it: reachable with its `/v1/status`, or down with why. */
export type MemberStatus =
  | { id: NodeId, apiUrl: string | undefined, up: true, status: object }
  | { id: NodeId, apiUrl: string | undefined, up: false, error: string }

export interface ClusterStatus {
  /** The node that answered. */
  self: NodeId
  /** Milliseconds since the epoch when the answer was assembled. */
  time: number
  members: MemberStatus[]
}

export interface ClusterStatusOptions {
  self: NodeId
  apiUrls: ReadonlyMap<NodeId, string>
  localStatus: () => object
  timeoutMs: number
  token: string | undefined
  fetch: typeof globalThis.fetch
}

/**
 * Asks every member for its `/v1/status` at once, each bounded by `timeoutMs`, so one dead or slow
 * member costs the page a timeout, not a hang. This node answers from memory: it needs no request
 * to itself, and its own row is right even when its advertised URL is not reachable from here.
 */
export async function fetchClusterStatus (options: ClusterStatusOptions, signal?: AbortSignal): Promise<ClusterStatus> {
  const ids = new Set<NodeId>([options.self, ...options.apiUrls.keys()])
  const members = await Promise.all([...ids].sort().map(async (id): Promise<MemberStatus> => {
    const apiUrl = options.apiUrls.get(id)
    if (id === options.self) return { id, apiUrl, up: true, status: options.localStatus() }
    if (apiUrl === undefined) return { id, apiUrl, up: false, error: 'no API URL known' }
    return await fetchOne(id, apiUrl, options, signal)
  }))
  return { self: options.self, time: Date.now(), members }
}

async function fetchOne (id: NodeId, apiUrl: string, options: ClusterStatusOptions, signal: AbortSignal | undefined): Promise<MemberStatus> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  try {
    const response = await options.fetch(new URL('/v1/status', apiUrl), {
      signal: combined,
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
    })
    if (!response.ok) {
      await response.body?.cancel()
      return { id, apiUrl, up: false, error: `HTTP ${response.status}` }
    }
    const status: unknown = await response.json()
    if (typeof status !== 'object' || status === null || Array.isArray(status)) return { id, apiUrl, up: false, error: 'status is not a JSON object' }
    return { id, apiUrl, up: true, status }
  } catch (error) {
    const reason = timeout.aborted ? `no answer within ${options.timeoutMs} ms` : describe(error)
    return { id, apiUrl, up: false, error: reason }
  }
}

function describe (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  // fetch wraps socket errors (ECONNREFUSED, ...) in a generic "fetch failed" TypeError.
  const cause = (error as { cause?: unknown }).cause
  if (cause instanceof Error) return (cause as { code?: string }).code ?? cause.message
  return error.message
}
