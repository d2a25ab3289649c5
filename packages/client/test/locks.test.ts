import { afterEach, describe, expect, it } from 'vitest'
import { NotLeaderError, isSynodError } from '@synod/interfaces'
import { createLockService, createLockStateMachine, parseGrantWait, parseLockRequest, type LockService, type LockStateMachine } from '@synod/lock'
import { createMemoryCluster } from '@synod/lock/testing'
import { createRpcServer, type RpcServer } from '@synod/transport-ws'
import { createClient, type SynodClient } from '../src/index.js'

interface Replica { id: string, service: LockService, server: RpcServer, received: string[] }

const started: Array<{ stop: () => Promise<void> }> = []
const clients: SynodClient[] = []

/**
 * Replicas of a real lock service (an in-memory replicated log) behind the node's client protocol:
 * `lock.execute`, `lock.awaitGrant` and `status`, with the leader's URL sent along ERR_NOT_LEADER.
 */
async function startCluster (ids: string[]): Promise<{ replicas: Replica[], machine: (id: string) => LockStateMachine }> {
  const cluster = createMemoryCluster({ nodes: ids, machine: () => createLockStateMachine() })
  const urls = new Map<string, string>()
  const replicas: Replica[] = []
  for (const id of ids) {
    const log = cluster.log(id)
    const service = createLockService({ log, machine: cluster.machine(id) })
    await log.start()
    await service.start()
    const received: string[] = []
    const server = createRpcServer<{ op: string, request?: unknown, wait?: unknown, timeoutMs?: number }, unknown>({
      handler: async (call, { signal }) => {
        received.push(call.op)
        try {
          if (call.op === 'lock.execute') return await service.execute(parseLockRequest(call.request), { signal, timeoutMs: call.timeoutMs })
          if (call.op === 'lock.awaitGrant') return await service.awaitGrant(parseGrantWait(call.wait), { signal })
          return log.status()
        } catch (error) {
          if (!isSynodError(error, NotLeaderError.code)) throw error
          const hint = (error as NotLeaderError).leaderHint
          throw Object.assign(error, { leaderUrl: hint === undefined ? undefined : urls.get(hint) })
        }
      }
    })
    await server.start()
    urls.set(id, server.address ?? '')
    replicas.push({ id, service, server, received })
    started.push({ stop: async () => { await server.stop(); await service.stop(); await log.stop() } })
  }
  return { replicas, machine: (id) => cluster.machine(id) }
}

function client (endpoints: string[]): SynodClient {
  const created = createClient({ endpoints, timeoutMs: 5000, retry: { baseDelayMs: 5, maxDelayMs: 50 } })
  clients.push(created)
  return created
}

afterEach(async () => {
  for (const created of clients.splice(0)) await created.close()
  for (const replica of started.splice(0)) await replica.stop()
})

describe('client.locks()', () => {
  it('acquires with a fencing token, queues a second caller in FIFO order and hands the lock over on release', async () => {
    const { replicas } = await startCluster(['n1'])
    const synod = client([replicas[0]?.server.address ?? ''])
    const locks = synod.locks({ ttlMs: 5000 })
    const first = await locks.acquire('job', { signal: AbortSignal.timeout(5000) })
    expect(first.token).toBeGreaterThan(0)
    expect(first.held).toBe(true)
    let second: number | undefined
    const waiting = synod.locks().acquire('job').then((lock) => { second = lock.token; return lock })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(second).toBeUndefined()
    await first.release()
    const next = await waiting
    expect(next.token).toBeGreaterThan(first.token)
    expect(replicas[0]?.received).toContain('lock.awaitGrant')
    await next.release()
    expect(await locks.withLock('job', async (_signal, lock) => lock.token)).toBeGreaterThan(next.token)
  })

  it('withdraws an aborted acquire so that it never holds the lock for nobody', async () => {
    const { replicas, machine } = await startCluster(['n1'])
    const synod = client([replicas[0]?.server.address ?? ''])
    const holder = await synod.locks().acquire('job')
    const controller = new AbortController()
    const aborted = synod.locks().acquire('job', { signal: controller.signal }).catch((error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 30))
    controller.abort()
    expect(await aborted).toMatchObject({ code: 'ERR_ABORTED' })
    await holder.release()
    expect(machine('n1').lock('job')).toBeUndefined()
  })

  it('follows the leader URL a follower sends with ERR_NOT_LEADER', async () => {
    const { replicas } = await startCluster(['n1', 'n2'])
    const [leader, follower] = replicas
    const synod = client([follower?.server.address ?? ''])
    const lock = await synod.locks().acquire('job')
    await lock.release()
    expect(follower?.received.filter((op) => op.startsWith('lock.')).length).toBeGreaterThan(0)
    expect(leader?.received).toContain('lock.execute')
    expect(synod.leader()).toBe(leader?.server.address)
  })

  it('moves a grant wait to another replica when its node goes away, and still gets the grant', async () => {
    const { replicas } = await startCluster(['n1', 'n2'])
    const [leader, follower] = replicas
    const synod = client([leader?.server.address ?? '', follower?.server.address ?? ''])
    // Closing the sessions at the end retries the unreachable leader for at most requestTimeoutMs.
    const holder = await synod.locks({ requestTimeoutMs: 300 }).acquire('job')
    let granted: number | undefined
    const waiting = synod.locks({ requestTimeoutMs: 300 }).acquire('job').then((lock) => { granted = lock.token; return lock })
    while (leader?.received.includes('lock.awaitGrant') !== true) await new Promise((resolve) => setTimeout(resolve, 5))
    // The leader's API goes away with the wait open on it; the replica's log and lock service stay.
    await leader.server.stop()
    while (follower?.received.includes('lock.awaitGrant') !== true) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(granted).toBeUndefined()
    // The holder's session ends on the cluster (as if its lease ran out): the follower's replica
    // applies the grant and answers the wait it now holds.
    const closed = await leader.service.execute({ type: 'close-session', session: holder.session })
    expect((await waiting).token).toBe(closed.index)
  })

  it('close() closes the lock sessions, releasing their locks at once', async () => {
    const { replicas, machine } = await startCluster(['n1'])
    const synod = createClient({ endpoints: [replicas[0]?.server.address ?? ''] })
    const lock = await synod.locks({ ttlMs: 60_000 }).acquire('job')
    expect(machine('n1').sessions()).toHaveLength(1)
    await synod.close()
    expect(lock.held).toBe(false)
    expect(machine('n1').sessions()).toHaveLength(0)
    expect(machine('n1').lock('job')).toBeUndefined()
    expect(() => synod.locks()).toThrow(expect.objectContaining({ code: 'ERR_STOPPED' }) as Error)
  })

  it('rejects an acquire whose signal fires while no node is reachable', async () => {
    const synod = createClient({ endpoints: ['ws://127.0.0.1:9'], connectTimeoutMs: 50 })
    clients.push(synod)
    const error = await synod.locks().acquire('job', { signal: AbortSignal.timeout(200) }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_ABORTED' })
  })
})
