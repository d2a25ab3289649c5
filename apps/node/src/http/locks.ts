import type { IncomingMessage } from 'node:http'
import { InvalidArgumentError } from '@synod/interfaces'
import type { GrantWait, LockMode, LockRequest, LockServer } from '@synod/lock'

const modes = new Set(['exclusive', 'shared', 'semaphore'])
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/** Checks a client's lock request; leader-only commands (expiry, lift-delay) are refused here. */
export function parseLockRequest (body: Record<string, unknown>): LockRequest {
  switch (body.type) {
    case 'open-session':
      if (!isCount(body.ttlMs) || body.ttlMs < 1) throw new InvalidArgumentError('ttlMs must be a positive integer', { field: 'ttlMs' })
      return { type: 'open-session', ttlMs: body.ttlMs }
    case 'keepalive': case 'close-session':
      if (!isCount(body.session)) throw new InvalidArgumentError('session must be a session id', { field: 'session' })
      return { type: body.type, session: body.session }
    case 'release':
      if (!isCount(body.session) || !isCount(body.request) || typeof body.name !== 'string') throw new InvalidArgumentError('release needs session, request and name')
      return { type: 'release', session: body.session, request: body.request, name: body.name }
    case 'acquire':
      if (!isCount(body.session) || !isCount(body.request) || typeof body.name !== 'string' || body.name.length === 0) throw new InvalidArgumentError('acquire needs session, request and a name')
      if (typeof body.mode !== 'string' || !modes.has(body.mode)) throw new InvalidArgumentError('mode is exclusive, shared or semaphore', { field: 'mode' })
      if (!isCount(body.permits) || !isCount(body.limit) || !isCount(body.lockDelayMs) || typeof body.wait !== 'boolean') throw new InvalidArgumentError('acquire needs permits, limit, lockDelayMs and wait')
      return { type: 'acquire', session: body.session, request: body.request, name: body.name, mode: body.mode as LockMode, permits: body.permits, limit: body.limit, wait: body.wait, lockDelayMs: body.lockDelayMs }
    default:
      throw new InvalidArgumentError(`unknown lock request type ${JSON.stringify(body.type)}`, { field: 'type' })
  }
}

export function parseGrantWait (body: Record<string, unknown>): GrantWait {
  if (!isCount(body.session) || !isCount(body.request) || !isCount(body.afterIndex) || typeof body.name !== 'string') {
    throw new InvalidArgumentError('await-grant needs session, request, name and afterIndex')
  }
  return { session: body.session, request: body.request, name: body.name, afterIndex: body.afterIndex }
}

/** Serves `/v1/locks/execute` and `/v1/locks/await-grant` on a replica's LockServer. */
export async function serveLocks (locks: LockServer, path: string, body: Record<string, unknown>, req: IncomingMessage): Promise<unknown> {
  if (path === '/v1/locks/execute') return locks.execute(parseLockRequest(body))
  // A long poll: the wait ends when the client goes away.
  const controller = new AbortController()
  req.socket.once('close', () => { controller.abort() })
  return locks.awaitGrant(parseGrantWait(body), { signal: controller.signal })
}
