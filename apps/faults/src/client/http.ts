/** What one HTTP attempt against one node tells the client. */
export type Attempt =
  | { readonly kind: 'done', readonly status: number, readonly json: Record<string, unknown> }
  /** Certainly not applied: the node refused before proposing (or could not be reached). */
  | { readonly kind: 'refused', readonly code: string }
  /** May or may not have been applied: a timeout, a dropped connection, a 5xx. */
  | { readonly kind: 'unknown', readonly code: string }

/** Error codes the node returns only before a command entered the log (docs/http-api.md). */
const NOT_APPLIED = new Set(['ERR_NOT_LEADER', 'ERR_NOT_STARTED', 'ERR_PROPOSAL_DROPPED', 'ERR_OVERLOADED'])

/** Classifies a finished HTTP exchange; exported for the unit tests. */
export function classifyReply (status: number, json: Record<string, unknown>): Attempt {
  const code = (json.error as { code?: string } | undefined)?.code
  if (code !== undefined && NOT_APPLIED.has(code)) return { kind: 'refused', code }
  if (status >= 500 || (code !== undefined && status !== 404)) return { kind: 'unknown', code: code ?? `HTTP ${status}` }
  return { kind: 'done', status, json }
}

export async function attempt (baseUrl: string, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<Attempt> {
  try {
    const res = await fetch(`${baseUrl}${path}`, { method, body, signal: AbortSignal.timeout(timeoutMs) })
    const json = await res.json() as Record<string, unknown>
    return classifyReply(res.status, json)
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    // A refused connection means nothing was sent: the request certainly did not happen.
    if (cause?.code === 'ECONNREFUSED') return { kind: 'refused', code: 'ECONNREFUSED' }
    return { kind: 'unknown', code: cause?.code ?? (error as Error).name }
  }
}

/**
 * Sends one logical request, moving to the next node only while no attempt could have taken
 * effect (refusals); the first uncertain or completed answer ends it.
 */
export async function request (urls: readonly string[], first: number, method: string, path: string, body: string | undefined,
  options: { timeoutMs: number, rounds: number, isRunning: () => boolean }): Promise<Attempt> {
  let last: Attempt = { kind: 'refused', code: 'NO_ATTEMPT' }
  for (let round = 0; round < options.rounds * urls.length; round++) {
    const url = urls[(first + round) % urls.length] as string
    last = await attempt(url, method, path, body, options.timeoutMs)
    if (last.kind !== 'refused') return last
    if (!options.isRunning()) return last
    if (round % urls.length === urls.length - 1) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return last
}
