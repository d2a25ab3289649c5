import { createHistoryRecorder, type HistoryRecorder, type PendingOp } from '@synod/lincheck'
import type { ClusterMember } from './cluster.js'

/** One HTTP attempt's outcome, as a client that must not double-apply a write sees it. */
export type Attempt =
  | { kind: 'done', status: number, json: Record<string, unknown> }
  | { kind: 'refused' } // certainly not processed: try another node
  | { kind: 'unknown' } // may have been processed

export async function attempt (member: ClusterMember, method: string, path: string, body?: string): Promise<Attempt> {
  try {
    const res = await fetch(`http://${member.api}${path}`, { method, body, signal: AbortSignal.timeout(3000) })
    const json = await res.json() as Record<string, unknown>
    const code = (json.error as { code?: string } | undefined)?.code
    // Errors raised before a proposal entered the log mean it never happened.
    if (code === 'ERR_NOT_LEADER' || code === 'ERR_NOT_STARTED' || code === 'ERR_PROPOSAL_DROPPED' || code === 'ERR_OVERLOADED') return { kind: 'refused' }
    if (res.status >= 500) return { kind: 'unknown' }
    return { kind: 'done', status: res.status, json }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return cause?.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unknown' }
  }
}

/** Sends one logical request, moving between nodes only while no attempt could have taken effect. */
export async function request (members: () => ClusterMember[], start: number, method: string, path: string, body?: string): Promise<Attempt> {
  for (let round = 0; round < 40; round++) {
    const live = members()
    const member = live[(start + round) % live.length] as ClusterMember
    const result = await attempt(member, method, path, body)
    if (result.kind !== 'refused') return result
    if (round % live.length === live.length - 1) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { kind: 'refused' }
}

function settle (pending: PendingOp, result: Attempt, completion: () => { ok?: boolean, output?: string | null }): void {
  if (result.kind === 'refused') pending.fail()
  else if (result.kind === 'unknown') pending.timeout()
  else pending.complete(completion())
}

export interface KvWorkload {
  readonly recorder: HistoryRecorder
  /** Keys written with a 200 answer, and the value written. */
  readonly acknowledged: Map<string, string>
  /** Stops the clients and waits for their last requests. */
  stop(): Promise<void>
}

/**
 * Register clients (put, get, cas on two keys, recorded for lincheck) and one client writing
 * fresh keys whose acknowledged values must all survive. `members` is read on every request, so
 * members added or removed while it runs are followed.
 */
export function startKvWorkload (members: () => ClusterMember[], options: { clients?: number, keys?: string[] } = {}): KvWorkload {
  const recorder = createHistoryRecorder()
  const acknowledged = new Map<string, string>()
  const keys = options.keys ?? ['x', 'y']
  let running = true

  async function registerClient (client: number): Promise<void> {
    let n = 0
    let lastSeen: string | null = null
    while (running) {
      n += 1
      const key = keys[(client + n) % keys.length] as string
      const choice = (client * 7 + n * 13) % 10
      const start = client + n
      if (choice < 4) {
        const value = `c${client}-${n}`
        const pending = recorder.invoke({ client, op: 'put', key, value })
        settle(pending, await request(members, start, 'PUT', `/v1/kv/${key}`, value), () => ({ ok: true }))
      } else if (choice < 7) {
        const pending = recorder.invoke({ client, op: 'get', key })
        const result = await request(members, start, 'GET', `/v1/kv/${key}`)
        settle(pending, result, () => {
          lastSeen = result.kind === 'done' && result.status === 200 ? result.json.value as string : null
          return { ok: true, output: lastSeen }
        })
      } else {
        const value = `c${client}-${n}`
        const pending = recorder.invoke({ client, op: 'cas', key, value, expected: lastSeen })
        const result = await request(members, start, 'POST', `/v1/kv/${key}/cas`, JSON.stringify({ value, expectedValue: lastSeen }))
        settle(pending, result, () => ({ ok: result.kind === 'done' && result.json.ok === true }))
      }
    }
  }

  async function ackClient (): Promise<void> {
    let n = 0
    while (running) {
      n += 1
      const key = `acked-${n}`
      const result = await request(members, n, 'PUT', `/v1/kv/${key}`, String(n))
      if (result.kind === 'done' && result.status === 200) acknowledged.set(key, String(n))
    }
  }

  const clients = [...Array.from({ length: options.clients ?? 3 }, async (_, i) => { await registerClient(i + 1) }), ackClient()]
  return {
    recorder,
    acknowledged,
    stop: async () => {
      running = false
      await Promise.all(clients)
    }
  }
}

/** The acknowledged keys that do not read back with their value. */
export async function missingAcknowledged (members: () => ClusterMember[], acknowledged: Map<string, string>): Promise<string[]> {
  const missing: string[] = []
  for (const [key, value] of acknowledged) {
    const result = await request(members, 0, 'GET', `/v1/kv/${key}`)
    if (result.kind !== 'done' || result.json.value !== value) missing.push(key)
  }
  return missing
}
