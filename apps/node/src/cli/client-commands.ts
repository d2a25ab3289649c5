/** `synod put|get|del|cas|status|members`: thin HTTP clients that follow leader hints. */

export interface ClientOptions {
  endpoints: string[]
  token?: string | undefined
  /** Write a line of output. */
  print: (line: string) => void
}

export interface Reply { status: number, body: Record<string, unknown> }

/** One request, tried on each endpoint in turn, following `ERR_NOT_LEADER` hints first. */
export async function request (options: ClientOptions, method: string, path: string, body?: string | Uint8Array, timeoutMs = 10_000): Promise<Reply> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  let lastError: unknown
  const queue = [...options.endpoints]
  const tried = new Set<string>()
  while (queue.length > 0) {
    const endpoint = queue.shift() as string
    if (tried.has(endpoint)) continue
    tried.add(endpoint)
    try {
      const res = await fetch(new URL(path, endpoint), { method, body, headers, signal: AbortSignal.timeout(timeoutMs) })
      const reply = { status: res.status, body: await res.json() as Record<string, unknown> }
      const error = reply.body.error as { code?: string, leaderUrl?: string } | undefined
      // Follow the leader hint first, then fall back to the other endpoints.
      if (error?.code === 'ERR_NOT_LEADER') {
        if (error.leaderUrl !== undefined) queue.unshift(error.leaderUrl)
        lastError = reply
        continue
      }
      return reply
    } catch (err) {
      lastError = err
    }
  }
  if (typeof lastError === 'object' && lastError !== null && 'status' in lastError) return lastError as Reply
  throw new Error(`no endpoint answered (${options.endpoints.join(', ')}): ${String(lastError)}`)
}

export function report (options: ClientOptions, reply: Reply): number {
  options.print(JSON.stringify(reply.body, null, 2))
  return reply.status < 400 ? 0 : 1
}

const keyPath = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`

export async function put (options: ClientOptions, key: string, value: string): Promise<number> {
  return report(options, await request(options, 'PUT', keyPath(key), value))
}

export async function get (options: ClientOptions, key: string, serializable: boolean): Promise<number> {
  return report(options, await request(options, 'GET', keyPath(key) + (serializable ? '?consistency=serializable' : '')))
}

export async function del (options: ClientOptions, key: string): Promise<number> {
  return report(options, await request(options, 'DELETE', keyPath(key)))
}

export async function cas (options: ClientOptions, key: string, value: string, expected: { value?: string | null, revision?: number }): Promise<number> {
  const body = JSON.stringify({ value, ...(expected.value !== undefined ? { expectedValue: expected.value } : {}), ...(expected.revision !== undefined ? { expectedRevision: expected.revision } : {}) })
  return report(options, await request(options, 'POST', `${keyPath(key)}/cas`, body))
}

export async function list (options: ClientOptions, prefix: string): Promise<number> {
  return report(options, await request(options, 'GET', `/v1/kv?prefix=${encodeURIComponent(prefix)}`))
}

export async function status (options: ClientOptions): Promise<number> {
  let worst = 0
  for (const endpoint of options.endpoints) {
    try {
      const res = await fetch(new URL('/v1/status', endpoint), { signal: AbortSignal.timeout(3000), headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` } })
      const body = await res.json() as Record<string, unknown>
      options.print(`${endpoint}  ${String(body.id)}  ${String(body.engine)}  ${String(body.role)}  term=${String(body.term)}  leader=${String(body.leader)}  commit=${String(body.commitIndex)}  applied=${String(body.appliedIndex)}`)
    } catch (err) {
      worst = 1
      options.print(`${endpoint}  unreachable (${(err as Error).message})`)
    }
  }
  return worst
}
