/**
 * A stand-in node for the CPU benchmark, in its own process so that its CPU is not counted as the
 * client's: answers `put`, `get`, `status`, `shards` and the lock API at once, from memory. The lock
 * table is the least that makes `acquire` queue and `lock.awaitGrant` wait as on a real node: one
 * holder per name, FIFO waiters, each grant's token a fresh index. Prints its address, then serves
 * until its standard input closes.
 */
import { createRpcServer } from '@synod/transport-ws'

type Request = Record<string, unknown>
interface LockRequest { type: string, session?: number, request?: number, name?: string, ttlMs?: number }
interface GrantWait { session: number, request: number, name: string }

let index = 0
const value = new Uint8Array(128).fill(7)
/** Per name: who holds it and who waits, as `<session>/<request>`. */
const names = new Map<string, { holder: string | undefined, queue: string[] }>()
/** Grants made before their wait arrived, and waits not yet granted. */
const grants = new Map<string, number>()
const waiters = new Map<string, (token: number) => void>()

function execute (request: LockRequest): { index: number, result: Record<string, unknown> } {
  index++
  const who = `${request.session}/${request.request}`
  switch (request.type) {
    case 'open-session': return { index, result: { type: 'session-opened', session: index, ttlMs: request.ttlMs } }
    case 'keepalive': return { index, result: { type: 'kept-alive', session: request.session } }
    case 'close-session': return { index, result: { type: 'session-closed', session: request.session, existed: true } }
    case 'acquire': {
      const lock = names.get(request.name ?? '') ?? { holder: undefined, queue: [] }
      names.set(request.name ?? '', lock)
      if (lock.holder === undefined) {
        lock.holder = who
        return { index, result: { type: 'granted', token: index } }
      }
      lock.queue.push(who)
      return { index, result: { type: 'queued', position: lock.queue.length } }
    }
    case 'release': {
      const lock = names.get(request.name ?? '')
      if (lock?.holder !== who) return { index, result: { type: 'released', was: 'none' } }
      const next = lock.queue.shift()
      lock.holder = next
      if (next !== undefined) {
        const waiter = waiters.get(next)
        waiters.delete(next)
        if (waiter !== undefined) waiter(index)
        else grants.set(next, index)
      }
      return { index, result: { type: 'released', was: 'held' } }
    }
    default: throw new Error(`unknown lock request ${request.type}`)
  }
}

async function awaitGrant (wait: GrantWait): Promise<{ token: number }> {
  const who = `${wait.session}/${wait.request}`
  const granted = grants.get(who)
  if (granted !== undefined) {
    grants.delete(who)
    return { token: granted }
  }
  return new Promise((resolve) => { waiters.set(who, (token) => { resolve({ token }) }) })
}

const server = createRpcServer<Request, unknown>({
  handler: (request) => {
    switch (request.op) {
      case 'put': return { ok: true, revision: ++index, index }
      case 'get': return { revision: index, item: { key: request.key, value, createRevision: 1, modRevision: 1, version: 1 } }
      case 'shards': return { epoch: 0, shardCount: 0, nodes: [], shards: [] }
      case 'lock.execute': return execute(request.request as LockRequest)
      case 'lock.awaitGrant': return awaitGrant(request.wait as GrantWait)
      default: return { id: 'n1', role: 'leader', term: 1, leader: 'n1', commitIndex: index, appliedIndex: index, firstIndex: 1, lastIndex: index, config: { voters: ['n1'], learners: [], addresses: {} } }
    }
  },
  maxInFlightPerConnection: 4096
})
await server.start()
console.log(server.address)
process.stdin.resume()
process.stdin.on('end', () => { void server.stop().then(() => process.exit(0)) })
