import type { ReplicatedLogStatus } from '@synod/interfaces'
import type { GrantWait, LockRequest } from '@synod/lock'

/**
 * The node's WebSocket client API, as `apps/node`'s `createWsApi` serves it: transport-ws RPC frames
 * carrying MessagePack maps. Values travel as MessagePack binaries.
 */
export type Consistency = 'linearizable' | 'serializable'

export type WireRequest =
  | { op: 'get', key: string, consistency?: Consistency }
  | { op: 'range', prefix?: string, limit?: number, consistency?: Consistency }
  | { op: 'put', key: string, value: Uint8Array, client?: string, seq?: number }
  | { op: 'del', key: string, client?: string, seq?: number }
  | { op: 'cas', key: string, value: Uint8Array, expectedValue?: Uint8Array | null, expectedRevision?: number, client?: string, seq?: number }
  | { op: 'status' }
  /** The shard map (`ShardMapView`); `shardCount: 0` from an unsharded node, ERR_INVALID_ARGUMENT from an old one. */
  | { op: 'shards' }
  | { op: 'lock.execute', request: LockRequest, timeoutMs?: number }
  | { op: 'lock.awaitGrant', wait: GrantWait }

/** A write request before the client attaches its session fields. */
export type WireWrite = Extract<WireRequest, { op: 'put' | 'del' | 'cas' }>

export interface WireItem { key: string, value: Uint8Array, createRevision: number, modRevision: number, version: number }
export interface WireGetResponse { revision: number, item: WireItem | null }
export interface WireRangeResponse { revision: number, items: WireItem[], more: boolean }
export interface WireWriteResponse { ok: boolean, revision: number, index: number, previous?: Uint8Array }
export type WireStatusResponse = ReplicatedLogStatus
