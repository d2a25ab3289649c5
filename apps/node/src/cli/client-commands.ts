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
      const sharding = body.sharding as ShardingStatus | undefined
      if (sharding !== undefined) {
        const { stats, rebalance } = sharding
        options.print(`    shards: ${stats.hosted} of ${sharding.shardCount} hosted here, ${stats.leading} led, ${stats.awake} awake, ${stats.quiesced} quiesced; ` +
          `map epoch ${sharding.epoch}; rebalancing: ${rebalance.active ? `${rebalance.moving} moving, ${rebalance.pending} waiting` : 'idle'}, ` +
          `${rebalance.movesDone} moves done${rebalance.draining.length > 0 ? `, draining ${rebalance.draining.join(' ')}` : ''}`)
      }
    } catch (err) {
      worst = 1
      options.print(`${endpoint}  unreachable (${(err as Error).message})`)
    }
  }
  return worst
}

/** The `sharding` section of a sharded node's `/v1/status`. */
interface ShardingStatus {
  shardCount: number
  epoch: number
  stats: { hosted: number, leading: number, awake: number, quiesced: number }
  rebalance: { active: boolean, moving: number, pending: number, movesDone: number, draining: string[] }
}

/** `synod shards`: the shard map of the first endpoint that answers, one line a shard, then replicas per node. */
export async function shards (options: ClientOptions): Promise<number> {
  const reply = await request(options, 'GET', '/v1/shards')
  if (reply.status >= 400) return report(options, reply)
  const map = reply.body as { epoch: number, shardCount: number, shards: Array<{ shard: number, replicas: string[], leader: string | null, preferredLeader: string, moving: boolean }> }
  if (map.shardCount === 0) {
    options.print('this cluster is not sharded (one consensus group)')
    return 0
  }
  options.print(`${map.shardCount} shards, map epoch ${map.epoch}`)
  const replicas = new Map<string, number>()
  const leaders = new Map<string, number>()
  for (const shard of map.shards) {
    for (const id of shard.replicas) replicas.set(id, (replicas.get(id) ?? 0) + 1)
    if (shard.leader !== null) leaders.set(shard.leader, (leaders.get(shard.leader) ?? 0) + 1)
    options.print(`  shard ${String(shard.shard).padStart(4)}  replicas ${shard.replicas.join(',').padEnd(12)}  leader ${shard.leader ?? '?'}  preferred ${shard.preferredLeader}${shard.moving ? '  moving' : ''}`)
  }
  for (const [id, count] of [...replicas].sort()) options.print(`  node ${id}: ${count} replicas, ${leaders.get(id) ?? 0} leaders`)
  return 0
}
