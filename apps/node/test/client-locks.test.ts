import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type SynodClient } from '@synod/client'
import { createFencedResource, type LockResponse } from '@synod/lock'
import { connectRpcClient } from '@synod/transport-ws'
import { createSynodNode, type SynodNode } from '../src/node.js'
import { createJsonLogger } from '../src/system/logger.js'
import { freePorts } from './support/cluster.js'

// Three real nodes in this process (Raft, file storage with fsync, transport-ws between them),
// reached only through @synod/client's lock API over the WebSocket client protocol.
const root = mkdtempSync(join(tmpdir(), 'synod-client-locks-'))
const nodes: SynodNode[] = []
let endpoints: string[] = []
const clients: SynodClient[] = []

function client (): SynodClient {
  const created = createClient({ endpoints, timeoutMs: 10_000, retry: { baseDelayMs: 5, maxDelayMs: 100 } })
  clients.push(created)
  return created
}

beforeAll(async () => {
  const ids = ['n1', 'n2', 'n3']
  const ports = await freePorts(ids.length * 3)
  const at = (i: number): number => ports[i] ?? 0
  const members = new Map(ids.map((id, i) => [id, `127.0.0.1:${at(i)}`]))
  endpoints = ids.map((_, i) => `ws://127.0.0.1:${at(6 + i)}`)
  const wsUrls = new Map(ids.map((id, i) => [id, endpoints[i] ?? '']))
  for (const [i, id] of ids.entries()) {
    nodes.push(createSynodNode({
      id,
      peerListen: { host: '127.0.0.1', port: at(i) },
      apiListen: { host: '127.0.0.1', port: at(3 + i) },
      clientWsListen: { host: '127.0.0.1', port: at(6 + i) },
      clientWsUrls: wsUrls,
      members,
      dataDir: join(root, id),
      secret: 'client-locks-test-secret-0123456789',
      tickMs: 20,
      logger: createJsonLogger({ level: 'error', write: () => {} })
    }))
  }
  await Promise.all(nodes.map(async (node) => { await node.start() }))
  const deadline = Date.now() + 20_000
  while (!nodes.some((node) => node.raft.isLeader())) {
    if (Date.now() > deadline) throw new Error('no leader')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}, 30_000)

afterAll(async () => {
  for (const created of clients.splice(0)) await created.close()
  await Promise.all(nodes.map(async (node) => { await node.stop() }))
  rmSync(root, { recursive: true, force: true })
})

describe('@synod/client locks against a 3-node cluster', () => {
  it('gives mutual exclusion to contending clients, with fencing tokens that strictly increase', async () => {
    const counter = createFencedResource(0)
    const tokens: number[] = []
    let inside = 0
    let overlap = false
    await Promise.all(Array.from({ length: 4 }, async () => {
      const locks = client().locks({ ttlMs: 5000 })
      for (let i = 0; i < 6; i++) {
        await locks.withLock('counter', async (signal, lock) => {
          inside += 1
          if (inside > 1) overlap = true
          tokens.push(lock.token)
          const value = counter.read(lock.token)
          await new Promise((resolve) => setTimeout(resolve, 2))
          expect(signal.aborted).toBe(false)
          counter.update(lock.token, () => value + 1)
          inside -= 1
        }, { signal: AbortSignal.timeout(20_000) })
      }
    }))
    expect(overlap).toBe(false)
    expect(counter.read(Number.MAX_SAFE_INTEGER)).toBe(24)
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
    expect(new Set(tokens).size).toBe(tokens.length)
  }, 30_000)

  it('releases, refuses a try-lock while held, and withdraws an acquire its caller aborts', async () => {
    const alice = client().locks()
    const bob = client().locks()
    const held = await alice.acquire('release-me')
    expect(held.held).toBe(true)
    expect(await bob.tryAcquire('release-me')).toBeUndefined()
    const controller = new AbortController()
    const waiting = bob.acquire('release-me', { signal: controller.signal }).catch((error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort()
    expect(await waiting).toMatchObject({ code: 'ERR_ABORTED' })
    await held.release()
    expect(held.held).toBe(false)
    await held.release()
    // The aborted acquire was withdrawn, so it does not stand in the way.
    const next = await bob.tryAcquire('release-me')
    expect(next?.token).toBeGreaterThan(held.token)
    await next?.release()
  }, 20_000)

  it('grants the lock to the next waiter once the holder\'s session expires, with a higher token', async () => {
    // A holder that opens a session and never keeps it alive: a client that crashed.
    const leaderUrl = endpoints[nodes.findIndex((node) => node.raft.isLeader())] ?? ''
    const raw = await connectRpcClient(leaderUrl)
    const execute = async (request: Record<string, unknown>): Promise<LockResponse> => await raw.request({ op: 'lock.execute', request }) as LockResponse
    const opened = await execute({ type: 'open-session', ttlMs: 1000 })
    const session = (opened.result as { session: number }).session
    const crashed = await execute({ type: 'acquire', session, request: 1, name: 'expiring', mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })
    expect(crashed.result.type).toBe('granted')

    const locks = client().locks({ ttlMs: 5000 })
    expect(await locks.tryAcquire('expiring')).toBeUndefined()
    const lock = await locks.acquire('expiring', { timeoutMs: 10_000 })
    expect(lock.token).toBeGreaterThan((crashed.result as { token: number }).token)
    // The leader expired the silent session through the log: it is gone for good.
    expect(await execute({ type: 'keepalive', session }).catch((error: unknown) => error)).toMatchObject({ code: 'ERR_SESSION_EXPIRED' })
    await raw.close()
    await lock.release()
  }, 20_000)

  it('closing the client releases its locks at once', async () => {
    const owner = client()
    const lock = await owner.locks({ ttlMs: 60_000 }).acquire('left-behind')
    await owner.close()
    expect(lock.held).toBe(false)
    const other = await client().locks().tryAcquire('left-behind')
    expect(other?.token).toBeGreaterThan(lock.token)
    await other?.release()
  }, 20_000)

  it('keeps a session and its lock across a leader change', async () => {
    const alice = client().locks({ ttlMs: 5000 })
    const bob = client().locks({ ttlMs: 5000 })
    const lock = await alice.acquire('through-failover')
    const leader = nodes.find((node) => node.raft.isLeader())
    await leader?.stop()
    // The new leader restarts every lease in full, and alice's keepalives reach it.
    const deadline = Date.now() + 20_000
    while (!nodes.some((node) => node !== leader && node.raft.isLeader())) {
      if (Date.now() > deadline) throw new Error('no new leader')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await bob.tryAcquire('through-failover')).toBeUndefined()
    expect(lock.held).toBe(true)
    await lock.release()
    const next = await bob.acquire('through-failover', { timeoutMs: 10_000 })
    expect(next.token).toBeGreaterThan(lock.token)
    await next.release()
  }, 30_000)
})
