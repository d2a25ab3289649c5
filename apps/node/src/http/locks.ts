import type { IncomingMessage } from 'node:http'
import { parseGrantWait, parseLockRequest, type LockServer } from '@synod/lock'

/** Serves `/v1/locks/execute` and `/v1/locks/await-grant` on a replica's LockServer. */
export async function serveLocks (locks: LockServer, path: string, body: Record<string, unknown>, req: IncomingMessage): Promise<unknown> {
  if (path === '/v1/locks/execute') return locks.execute(parseLockRequest(body))
  // A long poll: the wait ends when the client goes away. The listener goes when the wait ends,
  // since a keep-alive connection carries many waits.
  const controller = new AbortController()
  const onClose = (): void => { controller.abort() }
  req.socket.once('close', onClose)
  try {
    return await locks.awaitGrant(parseGrantWait(body), { signal: controller.signal })
  } finally {
    req.socket.off('close', onClose)
  }
}
