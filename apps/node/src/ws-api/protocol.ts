import { InvalidArgumentError } from '@synod/interfaces'
import { parseGrantWait, parseLockRequest, type GrantWait, type LockRequest } from '@synod/lock'
import type { KvCommand } from '../kv/commands.js'
import type { Consistency } from '../kv/backend.js'

/**
 * The client API over WebSocket + MessagePack, carried by transport-ws's RPC frames. Values are
 * MessagePack binaries; every other field is a plain MessagePack value, so any MessagePack client
 * can speak it. Writes may carry `client` and `seq`: the state machine applies a given
 * (client, seq) once, so a client can resend a write whose fate it does not know (Raft
 * dissertation §6.3). A client must not have two writes in flight under one `client` id: the
 * state machine keeps the highest `seq` only, so a lower one arriving later is ignored.
 *
 * `lock.execute` and `lock.awaitGrant` are `@synod/lock`'s `LockServer` over this protocol: a
 * lock client anywhere on the network runs against a node as if it were in process. Lock
 * requests carry their own (session, request) ids, so they are safe to resend.
 */
export type WsRequest =
  | { op: 'get', key: string, consistency?: Consistency }
  | { op: 'range', prefix?: string, limit?: number, consistency?: Consistency }
  /** Writes have exactly the shape of the state machine's commands. */
  | KvCommand
  | { op: 'status' }
  /**
   * The shard map a client routes by (`ShardMapView`): `shard = murmur3(key) % shardCount`, sent to
   * the shard's `leader` (else `preferredLeader`). An unsharded node answers `shardCount: 0`.
   */
  | { op: 'shards' }
  /** Proposes a lock request through the log; answers `@synod/lock`'s `LockResponse` (`{ index, result }`). */
  | { op: 'lock.execute', request: LockRequest, timeoutMs?: number }
  /** Waits until a queued request is granted, as this node's state machine sees it; answers `{ token }`. */
  | { op: 'lock.awaitGrant', wait: GrantWait }

/** Longest `timeoutMs` a `lock.execute` may ask for. */
export const MAX_LOCK_TIMEOUT_MS = 60_000

export type { Consistency } from '../kv/backend.js'

/** One key as the API returns it. */
export interface WsItem {
  key: string
  value: Uint8Array
  createRevision: number
  modRevision: number
  version: number
}

/** Answer to `get`: `item` is null when the key is absent. `revision` is the store revision read. */
export interface WsGetResponse { revision: number, item: WsItem | null }
/** Answer to `range`: keys in order; `more` says the limit cut the list short. */
export interface WsRangeResponse { revision: number, items: WsItem[], more: boolean }
/** Answer to `put`, `del` and `cas`: whether it took effect, the store revision after it, its log index. */
export interface WsWriteResponse { ok: boolean, revision: number, index: number, previous?: Uint8Array }

/** Largest `limit` a range may ask for, as in the HTTP API. */
export const MAX_RANGE_LIMIT = 10_000
/** `limit` of a range that gives none, as in the HTTP API. */
export const DEFAULT_RANGE_LIMIT = 1000

/**
 * Checks the shape of a decoded request and returns it typed; throws `ERR_INVALID_ARGUMENT` naming
 * the offending field. Unknown fields are ignored so newer clients can add optional ones.
 */
export function parseWsRequest (value: unknown): WsRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('request must be a map', 'request')
  const request = value as Record<string, unknown>
  switch (request.op) {
    case 'status': return { op: 'status' }
    case 'shards': return { op: 'shards' }
    case 'get': return { op: 'get', key: key(request), ...consistency(request) }
    case 'range': {
      const parsed: WsRequest = { op: 'range', ...consistency(request) }
      if (request.prefix !== undefined) {
        if (typeof request.prefix !== 'string') throw invalid('prefix must be a string', 'prefix')
        parsed.prefix = request.prefix
      }
      if (request.limit !== undefined) {
        if (typeof request.limit !== 'number' || !Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_RANGE_LIMIT) {
          throw invalid(`limit must be an integer from 1 to ${MAX_RANGE_LIMIT}`, 'limit')
        }
        parsed.limit = request.limit
      }
      return parsed
    }
    case 'put': return { op: 'put', key: key(request), value: bytes(request, 'value'), ...session(request) }
    case 'del': return { op: 'del', key: key(request), ...session(request) }
    case 'cas': {
      const parsed: WsRequest = { op: 'cas', key: key(request), value: bytes(request, 'value'), ...session(request) }
      if (request.expectedValue === null) parsed.expectedValue = null
      else if (request.expectedValue !== undefined) parsed.expectedValue = bytes(request, 'expectedValue')
      if (request.expectedRevision !== undefined) {
        if (typeof request.expectedRevision !== 'number' || !Number.isSafeInteger(request.expectedRevision) || request.expectedRevision < 0) {
          throw invalid('expectedRevision must be a non-negative integer', 'expectedRevision')
        }
        parsed.expectedRevision = request.expectedRevision
      }
      return parsed
    }
    case 'lock.execute': {
      const parsed: WsRequest = { op: 'lock.execute', request: parseLockRequest(request.request) }
      if (request.timeoutMs !== undefined) {
        if (typeof request.timeoutMs !== 'number' || !Number.isInteger(request.timeoutMs) || request.timeoutMs < 1 || request.timeoutMs > MAX_LOCK_TIMEOUT_MS) {
          throw invalid(`timeoutMs must be an integer from 1 to ${MAX_LOCK_TIMEOUT_MS}`, 'timeoutMs')
        }
        parsed.timeoutMs = request.timeoutMs
      }
      return parsed
    }
    case 'lock.awaitGrant': return { op: 'lock.awaitGrant', wait: parseGrantWait(request.wait) }
    default: throw invalid('op must be one of get, range, put, del, cas, status, shards, lock.execute, lock.awaitGrant', 'op')
  }
}

function key (request: Record<string, unknown>): string {
  if (typeof request.key !== 'string' || request.key.length === 0) throw invalid('key must be a non-empty string', 'key')
  return request.key
}

function bytes (request: Record<string, unknown>, field: string): Uint8Array {
  const value = request[field]
  if (!(value instanceof Uint8Array)) throw invalid(`${field} must be a MessagePack binary`, field)
  return value
}

function consistency (request: Record<string, unknown>): { consistency?: Consistency } {
  if (request.consistency === undefined) return {}
  if (request.consistency !== 'linearizable' && request.consistency !== 'serializable') {
    throw invalid('consistency is linearizable or serializable', 'consistency')
  }
  return { consistency: request.consistency }
}

function session (request: Record<string, unknown>): { client?: string, seq?: number } {
  if (request.client === undefined && request.seq === undefined) return {}
  if (typeof request.client !== 'string' || request.client.length === 0) throw invalid('client must be a non-empty string when seq is given', 'client')
  if (typeof request.seq !== 'number' || !Number.isSafeInteger(request.seq) || request.seq < 1) throw invalid('seq must be a positive integer when client is given', 'seq')
  return { client: request.client, seq: request.seq }
}

function invalid (message: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(message, { field })
}
