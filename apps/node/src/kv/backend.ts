import type { AbortOptions, ReplicatedLog } from '@synod/interfaces'
import { encodeCommand, type KvCommand, type KvResult } from './commands.js'
import type { KvRecord, KvStateMachine } from './state-machine.js'

/** `linearizable` reads pass a read barrier first; `serializable` reads answer from local state. */
export type Consistency = 'linearizable' | 'serializable'

/** Options of a KV read. */
export interface KvReadOptions extends AbortOptions {
  /** @default 'linearizable' */
  consistency?: Consistency | undefined
}

/** A read of one key: the record (undefined when absent) and the revision of the store it was read from. */
export interface KvGetAnswer { revision: number, record: KvRecord | undefined }

/** A prefix read: rows in key order, `more` when `limit` cut the list short. */
export interface KvRangeAnswer { revision: number, rows: Array<[string, KvRecord]>, more: boolean }

/** A write's outcome and the log index it was applied at. */
export interface KvWriteAnswer { index: number, result: KvResult }

/**
 * What the client APIs (HTTP and WebSocket) serve KV requests from. One consensus group
 * (`createGroupKv`) or many shards (`createShardedKv` in `src/sharded/`): the APIs do not know which.
 */
export interface KvBackend {
  get(key: string, options?: KvReadOptions): Promise<KvGetAnswer>
  range(prefix: string, limit: number, options?: KvReadOptions): Promise<KvRangeAnswer>
  write(command: KvCommand, options?: AbortOptions): Promise<KvWriteAnswer>
  /** Sharded backends: the rows of one shard hosted on this node (how nodes gather a range). */
  rangeShard?: (shard: number, prefix: string, limit: number, options?: KvReadOptions) => Promise<KvRangeAnswer>
}

/** The KV store of one consensus group: writes through its log, reads from the local state machine after a read barrier. */
export function createGroupKv (log: ReplicatedLog<KvResult>, kv: KvStateMachine): KvBackend {
  async function barrier (options: KvReadOptions | undefined): Promise<void> {
    if (options?.consistency === 'serializable') return
    await log.readBarrier(options)
  }
  return {
    async get (key, options) {
      await barrier(options)
      return { revision: kv.revision(), record: kv.get(key) }
    },
    async range (prefix, limit, options) {
      await barrier(options)
      const rows = kv.range({ prefix, limit: limit + 1 })
      return { revision: kv.revision(), rows: rows.slice(0, limit), more: rows.length > limit }
    },
    async write (command, options) {
      const { index, result } = await log.propose(encodeCommand(command), options)
      return { index, result }
    }
  }
}

/** The shard map a node of one consensus group serves (`GET /v1/shards`, ws `shards`): clients route as before. */
export const UNSHARDED_MAP = Object.freeze({ epoch: 0, shardCount: 0, nodes: Object.freeze([]), shards: Object.freeze([]) })
