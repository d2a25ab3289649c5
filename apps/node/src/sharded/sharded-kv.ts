import { NotLeaderError, type AbortOptions, type NodeId } from '@synod/interfaces'
import type { KvBackend, KvRangeAnswer, KvReadOptions } from '../kv/backend.js'
import type { KvRecord } from '../kv/state-machine.js'
import type { ShardHost } from '../sharding/index.js'
import { jsonToRecord } from '../http/values.js'

/** How long a linearizable read may take in all, and one ReadIndex try within it. */
const READ_DEADLINE_MS = 10_000
const READ_ATTEMPT_MS = 2_000
/** Errors after which a read barrier is tried again: the shard is between leaders. */
const RETRYABLE_READ = new Set(['ERR_NOT_LEADER', 'ERR_TIMEOUT', 'ERR_PROPOSAL_DROPPED'])

/** What a sharded KV backend needs besides the host: how to reach another node's HTTP API. */
export interface ShardedKvComponents {
  host: ShardHost
  /** The HTTP API URL of a node, for range reads of shards this node does not host. */
  apiUrlOf: (id: NodeId) => string | undefined
  /** Bearer token the cluster's nodes require. */
  token?: string | undefined
  fetch?: typeof globalThis.fetch
}

/**
 * The KV store of a sharded node. A keyed request runs on its shard through the host: the write
 * or ReadIndex goes to the shard's leader in one hop, and a node that hosts no replica of the
 * shard answers ERR_NOT_LEADER with the leader (or preferred leader) as the hint, plus the `shard`
 * and the metadata `epoch` its map is from. Revisions are the shard's log indexes: they grow per
 * key, not across shards.
 *
 * A prefix range gathers every shard: from this node's replica when it hosts one (after a read
 * barrier on that shard), otherwise from a node that does (`GET /v1/kv?shard=`), then merges in
 * key order. Each shard's part is linearizable on its own; the whole is not one snapshot
 * (there is no cross-shard snapshot), which is what `revision`'s absence of meaning across shards
 * also says: it answers the highest shard revision seen.
 */
export function createShardedKv (components: ShardedKvComponents): KvBackend & {
  /** The rows of one shard hosted here (the `shard=` form of the range route). */
  rangeShard: (shard: number, prefix: string, limit: number, options?: KvReadOptions) => Promise<KvRangeAnswer>
} {
  const { host } = components
  const fetchImpl = components.fetch ?? globalThis.fetch

  function notHosted (shard: number): NotLeaderError {
    const map = host.shardMap()
    const entry = map.shards[shard]
    const hint = entry?.leader ?? entry?.preferredLeader ?? undefined
    return Object.assign(new NotLeaderError(`shard ${shard} has no replica on ${host.nodeId}`, { leaderHint: hint ?? undefined }), { shard, epoch: map.epoch })
  }

  function withShard (error: unknown, shard: number): unknown {
    if (error instanceof Error && (error as { code?: string }).code === NotLeaderError.code && (error as { shard?: number }).shard === undefined) {
      return Object.assign(error, { shard, epoch: host.shardMap().epoch })
    }
    return error
  }

  /**
   * A ReadIndex on a shard hosted here, tried again while the shard changes leader (a leadership
   * transfer by the leader balancer, an election): a read barrier has no effect, so repeating it
   * is always safe. Each try is bounded, so a confirmation lost with a deposed leader costs one
   * try, not the whole deadline.
   */
  async function barrier (shard: number, options: KvReadOptions & { timeoutMs?: number }): Promise<void> {
    const deadline = performance.now() + (options.timeoutMs ?? READ_DEADLINE_MS)
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - performance.now()
      try {
        await host.readBarrier(shard, { ...options, timeoutMs: Math.max(1, Math.min(remaining, READ_ATTEMPT_MS)) })
        return
      } catch (error) {
        const code = (error as { code?: string }).code
        if (options.signal?.aborted === true || remaining <= 0 || code === undefined || !RETRYABLE_READ.has(code) || host.replica(shard) === undefined) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * attempt, 100)))
    }
  }

  async function rangeShard (shard: number, prefix: string, limit: number, options: KvReadOptions = {}): Promise<KvRangeAnswer> {
    const replica = host.replica(shard)
    if (replica === undefined) throw notHosted(shard)
    if (options.consistency !== 'serializable') await barrier(shard, options)
    const rows = replica.kv.range({ prefix, limit: limit + 1 })
    return { revision: replica.kv.revision(), rows: rows.slice(0, limit), more: rows.length > limit }
  }

  async function rangeRemote (shard: number, prefix: string, limit: number, options: KvReadOptions): Promise<KvRangeAnswer> {
    const entry = host.shardMap().shards[shard]
    const candidates = [...new Set([entry?.leader, entry?.preferredLeader, ...(entry?.replicas ?? [])])].filter((id): id is NodeId => typeof id === 'string')
    let lastError: unknown = notHosted(shard)
    for (const id of candidates) {
      const base = components.apiUrlOf(id)
      if (base === undefined) continue
      const url = new URL('/v1/kv', base)
      url.searchParams.set('shard', String(shard))
      url.searchParams.set('prefix', prefix)
      url.searchParams.set('limit', String(limit))
      url.searchParams.set('consistency', options.consistency ?? 'linearizable')
      try {
        const response = await fetchImpl(url, {
          headers: components.token === undefined ? {} : { authorization: `Bearer ${components.token}` },
          ...(options.signal === undefined ? {} : { signal: options.signal })
        })
        const body = await response.json() as { revision?: number, items?: unknown[], more?: boolean, error?: { message?: string } }
        if (!response.ok || !Array.isArray(body.items)) {
          lastError = new NotLeaderError(`node ${id} could not read shard ${shard}: ${body.error?.message ?? `HTTP ${response.status}`}`)
          continue
        }
        const rows = body.items.map((item) => jsonToRecord(item))
        return { revision: body.revision ?? 0, rows, more: body.more === true }
      } catch (error) {
        if (options.signal?.aborted === true) throw error
        lastError = error
      }
    }
    throw lastError
  }

  return {
    async get (key, options = {}) {
      const shard = host.shardOf(key)
      if (host.replica(shard) === undefined) throw notHosted(shard)
      try {
        if (options.consistency !== 'serializable') await barrier(shard, options)
        const replica = host.replica(shard)
        if (replica === undefined) throw notHosted(shard)
        return { revision: replica.kv.revision(), record: replica.kv.get(key) }
      } catch (error) {
        throw withShard(error, shard)
      }
    },

    async range (prefix, limit, options = {}) {
      const parts = await Promise.all(Array.from({ length: host.shardCount }, async (_, shard) => {
        try {
          return host.replica(shard) === undefined ? await rangeRemote(shard, prefix, limit, options) : await rangeShard(shard, prefix, limit, options)
        } catch (error) {
          // Say which shard failed: the range as a whole fails with it.
          if (error instanceof Error) error.message = `shard ${shard}${host.replica(shard) === undefined ? ' (from another node)' : ''}: ${error.message}`
          throw error
        }
      }))
      const rows: Array<[string, KvRecord]> = parts.flatMap((part) => part.rows)
      rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      return {
        revision: Math.max(0, ...parts.map((part) => part.revision)),
        rows: rows.slice(0, limit),
        more: rows.length > limit || parts.some((part) => part.more)
      }
    },

    async write (command, options: AbortOptions = {}) {
      const shard = host.shardOf(command.key)
      if (host.replica(shard) === undefined) throw notHosted(shard)
      try {
        const result = await host.write(command, options)
        // The host answers the state machine's result; for a change, its revision is the log index it applied at.
        return { index: result.revision, result }
      } catch (error) {
        throw withShard(error, shard)
      }
    },

    rangeShard
  }
}
