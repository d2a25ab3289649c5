import { Packr } from 'msgpackr'
import { CorruptionError, type AppliedCommand, type RangeQuery, type StateMachine } from '@synod/interfaces'
import { decodeCommand, type KvCommand, type KvResult } from './commands.js'

/** One stored key. Revisions are log indices, so they only grow, across leaders and restarts. */
export interface KvRecord {
  value: Uint8Array
  createRevision: number
  modRevision: number
  version: number
}

/** The replicated KV state machine plus the local reads the node serves after a read barrier. */
export interface KvStateMachine extends StateMachine<KvResult> {
  get(key: string): KvRecord | undefined
  range(query: RangeQuery): Array<[string, KvRecord]>
  /** The store revision: the index of the last command that changed a key. */
  revision(): number
  size(): number
}

export interface KvStateMachineInit {
  /**
   * How many log entries a client's deduplication record survives without activity.
   * @default 100000
   */
  clientRetention?: number
}

interface ClientRecord { seq: number, result: KvResult, lastIndex: number }

const packr = new Packr({ useRecords: false })
const SNAPSHOT_BATCH = 512

/** Creates the in-memory KV state machine with exactly-once client writes. */
export function createKvStateMachine (init: KvStateMachineInit = {}): KvStateMachine {
  const clientRetention = init.clientRetention ?? 100_000
  let data = new Map<string, KvRecord>()
  let clients = new Map<string, ClientRecord>()
  let revision = 0

  function write (command: KvCommand, index: number): KvResult {
    const current = data.get(command.key)
    switch (command.op) {
      case 'put':
        data.set(command.key, next(current, command.value, index))
        revision = index
        return { ok: true, revision, previous: current?.value }
      case 'del':
        if (current === undefined) return { ok: false, revision }
        data.delete(command.key)
        revision = index
        return { ok: true, revision, previous: current.value }
      case 'cas': {
        const valueMatches = command.expectedValue === undefined ||
          (command.expectedValue === null ? current === undefined : current !== undefined && equal(current.value, command.expectedValue))
        const revisionMatches = command.expectedRevision === undefined ||
          (current?.modRevision ?? 0) === command.expectedRevision
        if (!valueMatches || !revisionMatches) return { ok: false, revision, previous: current?.value }
        data.set(command.key, next(current, command.value, index))
        revision = index
        return { ok: true, revision, previous: current?.value }
      }
    }
  }

  function forgetIdleClients (index: number): void {
    // Deterministic: every replica evicts at the same indices.
    if (index % 1024 !== 0) return
    for (const [id, record] of clients) {
      if (index - record.lastIndex > clientRetention) clients.delete(id)
    }
  }

  return {
    apply (entry: AppliedCommand): KvResult {
      const command = decodeCommand(entry.data)
      forgetIdleClients(entry.index)
      if (command.client !== undefined && command.seq !== undefined) {
        const seen = clients.get(command.client)
        if (seen !== undefined && command.seq <= seen.seq) {
          seen.lastIndex = entry.index
          return seen.result
        }
        const result = write(command, entry.index)
        clients.set(command.client, { seq: command.seq, result, lastIndex: entry.index })
        return result
      }
      return write(command, entry.index)
    },

    async * snapshot () {
      // Copy references first: the stream must reflect one applied index even if apply runs meanwhile.
      const rows = [...data.entries()]
      const header = { revision, clients: [...clients.entries()], keys: rows.length }
      yield packr.pack(header)
      for (let i = 0; i < rows.length; i += SNAPSHOT_BATCH) {
        yield packr.pack(rows.slice(i, i + SNAPSHOT_BATCH))
      }
    },

    async restore (chunks) {
      const restored = new Map<string, KvRecord>()
      let header: { revision: number, clients: Array<[string, ClientRecord]>, keys: number } | undefined
      // Chunk boundaries need not match the values snapshot() wrote (a transfer may re-chunk), so
      // decode the concatenation. The store lives in memory anyway, so this costs no extra bound.
      const parts: Uint8Array[] = []
      for await (const chunk of chunks) parts.push(chunk)
      const values = packr.unpackMultiple(Buffer.concat(parts)) ?? []
      for (const value of values) {
        if (header === undefined) header = value as typeof header
        else for (const [key, record] of value as Array<[string, KvRecord]>) restored.set(key, record)
      }
      if (header === undefined || restored.size !== header.keys) {
        throw new CorruptionError(`kv snapshot holds ${restored.size} keys, header says ${header?.keys ?? 'nothing'}`)
      }
      data = restored
      clients = new Map(header.clients)
      revision = header.revision
    },

    get: (key) => data.get(key),

    range (query) {
      const keys = [...data.keys()].filter((key) =>
        (query.prefix === undefined || key.startsWith(query.prefix)) &&
        (query.start === undefined || key >= query.start) &&
        (query.end === undefined || key < query.end)).sort()
      const limited = query.limit === undefined ? keys : keys.slice(0, query.limit)
      return limited.map((key) => [key, data.get(key) as KvRecord])
    },

    revision: () => revision,
    size: () => data.size
  }
}

function next (current: KvRecord | undefined, value: Uint8Array, index: number): KvRecord {
  return {
    value,
    createRevision: current?.createRevision ?? index,
    modRevision: index,
    version: (current?.version ?? 0) + 1
  }
}

function equal (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
