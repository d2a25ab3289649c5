import { InvalidArgumentError } from '@synod/interfaces'
import type { LockMode } from '../machine/commands.js'
import type { GrantWait, LockRequest } from './lock-server.js'

const modes: ReadonlySet<string> = new Set<LockMode>(['exclusive', 'shared', 'semaphore'])

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function record (value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('a lock request must be a map', { field: 'request' })
  return value as Record<string, unknown>
}

function count (body: Record<string, unknown>, field: string): number {
  const value = body[field]
  if (!isCount(value)) throw new InvalidArgumentError(`${field} must be a non-negative integer`, { field })
  return value
}

function name (body: Record<string, unknown>): string {
  if (typeof body.name !== 'string' || body.name.length === 0) throw new InvalidArgumentError('name must be a non-empty string', { field: 'name' })
  return body.name
}

/**
 * Checks a lock request that arrived from a client (JSON, MessagePack, ...) and returns it typed.
 * Throws `ERR_INVALID_ARGUMENT` naming the offending field. The leader-only commands
 * (`expire-session`, `lift-delay`) are refused: a client must never decide a lease ran out.
 * Limits that depend on the state machine's options (TTL range, name length) are checked when
 * the command is applied.
 */
export function parseLockRequest (value: unknown): LockRequest {
  const body = record(value)
  switch (body.type) {
    case 'open-session': {
      const ttlMs = count(body, 'ttlMs')
      if (ttlMs < 1) throw new InvalidArgumentError('ttlMs must be a positive integer', { field: 'ttlMs' })
      return { type: 'open-session', ttlMs }
    }
    case 'keepalive': case 'close-session':
      return { type: body.type, session: count(body, 'session') }
    case 'release':
      return { type: 'release', session: count(body, 'session'), request: count(body, 'request'), name: name(body) }
    case 'acquire': {
      const session = count(body, 'session')
      const request = count(body, 'request')
      const lockName = name(body)
      if (typeof body.mode !== 'string' || !modes.has(body.mode)) throw new InvalidArgumentError('mode is exclusive, shared or semaphore', { field: 'mode' })
      if (typeof body.wait !== 'boolean') throw new InvalidArgumentError('wait must be a boolean', { field: 'wait' })
      return {
        type: 'acquire', session, request, name: lockName, mode: body.mode as LockMode,
        permits: count(body, 'permits'), limit: count(body, 'limit'), wait: body.wait, lockDelayMs: count(body, 'lockDelayMs')
      }
    }
    default:
      throw new InvalidArgumentError(`type must be one of open-session, keepalive, close-session, acquire, release (got ${JSON.stringify(body.type) ?? 'nothing'})`, { field: 'type' })
  }
}

/** Checks a client's `GrantWait`; throws `ERR_INVALID_ARGUMENT` naming the offending field. */
export function parseGrantWait (value: unknown): GrantWait {
  const body = record(value)
  return { session: count(body, 'session'), request: count(body, 'request'), name: name(body), afterIndex: count(body, 'afterIndex') }
}
