import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createLockService, createLockStateMachine, type LockResponse, type LockService } from '@synod/lock'
import { connectRpcClient, type RpcClient } from '@synod/transport-ws'
import type { KvResult } from '../src/kv/commands.js'
import { createKvStateMachine } from '../src/kv/state-machine.js'
import { createJsonLogger } from '../src/system/logger.js'
import { createWsApi, type WsApi, type WsApiInit } from '../src/ws-api/index.js'
import { createLocalLog } from './support/local-log.js'
import { failure } from './support/failure.js'

const logger = createJsonLogger({ level: 'error', write: () => {} })

let api: WsApi | undefined
let service: LockService | undefined
const clients: RpcClient<unknown, unknown>[] = []
let lockLog: ReturnType<typeof createLocalLog<unknown>>

/** A node's WebSocket API over a single-replica log holding the lock state machine. */
async function startApi (init: Partial<WsApiInit> = {}, withLocks = true): Promise<RpcClient<unknown, unknown>> {
  const kv = createKvStateMachine()
  const machine = createLockStateMachine()
  lockLog = createLocalLog<unknown>(machine)
  service = withLocks ? createLockService({ log: lockLog, machine }) : undefined
  await service?.start()
  api = createWsApi({ listen: { port: 0 }, ...init }, { log: createLocalLog<KvResult>(kv), kv, locks: service, logger })
  await api.start()
  const client = await connectRpcClient(api.address ?? '')
  clients.push(client)
  return client
}

async function execute (client: RpcClient<unknown, unknown>, request: Record<string, unknown>): Promise<LockResponse> {
  return await client.request({ op: 'lock.execute', request }) as LockResponse
}

const acquire = (session: number, request: number, name = 'job'): Record<string, unknown> =>
  ({ type: 'acquire', session, request, name, mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0 })

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await api?.stop()
  await service?.stop()
  api = undefined
  service = undefined
})

describe('WebSocket client API: locks', () => {
  it('opens sessions, grants in FIFO order, pushes a queued grant to its waiter and releases idempotently', async () => {
    const client = await startApi()
    const first = await execute(client, { type: 'open-session', ttlMs: 5000 })
    expect(first.result).toMatchObject({ type: 'session-opened', ttlMs: 5000 })
    const second = await execute(client, { type: 'open-session', ttlMs: 5000 })
    const a = (first.result as { session: number }).session
    const b = (second.result as { session: number }).session

    const held = await execute(client, acquire(a, 1))
    expect(held.result).toEqual({ type: 'granted', token: held.index })
    const queued = await execute(client, acquire(b, 1))
    expect(queued.result).toEqual({ type: 'queued', position: 1 })

    let settled = false
    const grant = client.request({ op: 'lock.awaitGrant', wait: { session: b, request: 1, name: 'job', afterIndex: queued.index } })
      .finally(() => { settled = true }) as Promise<{ token: number }>
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)

    const released = await execute(client, { type: 'release', session: a, request: 1, name: 'job' })
    expect(released.result).toEqual({ type: 'released', was: 'held' })
    // The release's own entry granted the next waiter: its index is the new fencing token.
    expect(await grant).toEqual({ token: released.index })
    expect(released.index).toBeGreaterThan(held.index)
    expect((await execute(client, { type: 'release', session: a, request: 1, name: 'job' })).result).toEqual({ type: 'released', was: 'none' })
  })

  it('rejects a grant wait with ERR_SESSION_EXPIRED when its session ends, and cancels a wait the client gives up', async () => {
    const client = await startApi()
    const opened = async (): Promise<number> => ((await execute(client, { type: 'open-session', ttlMs: 5000 })).result as { session: number }).session
    const holder = await opened()
    const waiter = await opened()
    const patient = await opened()
    await execute(client, acquire(holder, 1))
    const queued = await execute(client, acquire(waiter, 1))
    const wait = failure(client.request({ op: 'lock.awaitGrant', wait: { session: waiter, request: 1, name: 'job', afterIndex: queued.index } }))
    await execute(client, { type: 'close-session', session: waiter })
    expect(await wait).toMatchObject({ code: 'ERR_SESSION_EXPIRED' })

    const queuedAgain = await execute(client, acquire(patient, 1))
    const controller = new AbortController()
    const cancelled = failure(client.request({ op: 'lock.awaitGrant', wait: { session: patient, request: 1, name: 'job', afterIndex: queuedAgain.index } }, { signal: controller.signal }))
    controller.abort()
    expect(await cancelled).toMatchObject({ code: 'ERR_ABORTED' })
    // The request is still queued on the node: waiting again is answered by the next grant.
    const again = client.request({ op: 'lock.awaitGrant', wait: { session: patient, request: 1, name: 'job', afterIndex: queuedAgain.index } }) as Promise<{ token: number }>
    const released = await execute(client, { type: 'release', session: holder, request: 1, name: 'job' })
    expect(await again).toEqual({ token: released.index })
  })

  it('answers malformed lock requests and leader-only commands with ERR_INVALID_ARGUMENT naming the field, and keeps serving', async () => {
    const client = await startApi()
    const cases: Array<[unknown, string]> = [
      [{ op: 'lock.execute' }, 'request'],
      [{ op: 'lock.execute', request: 'acquire' }, 'request'],
      [{ op: 'lock.execute', request: { type: 'expire-session', session: 1, renewedIndex: 1 } }, 'type'],
      [{ op: 'lock.execute', request: { type: 'lift-delay', name: 'job', delayIndex: 1 } }, 'type'],
      [{ op: 'lock.execute', request: { type: 'open-session', ttlMs: 0 } }, 'ttlMs'],
      [{ op: 'lock.execute', request: { type: 'open-session', ttlMs: 1.5 } }, 'ttlMs'],
      [{ op: 'lock.execute', request: { type: 'keepalive', session: -1 } }, 'session'],
      [{ op: 'lock.execute', request: { ...acquire(1, 1), name: '' } }, 'name'],
      [{ op: 'lock.execute', request: { ...acquire(1, 1), mode: 'sideways' } }, 'mode'],
      [{ op: 'lock.execute', request: { ...acquire(1, 1), wait: 'yes' } }, 'wait'],
      [{ op: 'lock.execute', request: { ...acquire(1, 1), permits: undefined } }, 'permits'],
      [{ op: 'lock.execute', request: { type: 'release', session: 1, name: 'job' } }, 'request'],
      [{ op: 'lock.execute', request: { type: 'open-session', ttlMs: 5000 }, timeoutMs: 0 }, 'timeoutMs'],
      [{ op: 'lock.awaitGrant' }, 'request'],
      [{ op: 'lock.awaitGrant', wait: { session: 1, request: 1, name: 'job' } }, 'afterIndex']
    ]
    for (const [request, field] of cases) {
      expect(await failure(client.request(request))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field })
    }
    expect(lockLog.status().commitIndex).toBe(0)
    expect((await execute(client, { type: 'open-session', ttlMs: 5000 })).result).toMatchObject({ type: 'session-opened' })
    // The state machine's own limits are answers too, in log order.
    expect(await failure(execute(client, { type: 'open-session', ttlMs: 10 }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await failure(execute(client, acquire(999, 1)))).toMatchObject({ code: 'ERR_SESSION_EXPIRED' })
  })

  it('never fails with anything but a typed refusal or an answer, whatever the lock request', async () => {
    const client = await startApi()
    const field = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -2, max: 6 }), fc.constant(null), fc.boolean(), fc.uint8Array({ maxLength: 4 }))
    const body = fc.record({
      type: fc.oneof(fc.constantFrom('open-session', 'keepalive', 'close-session', 'acquire', 'release', 'expire-session'), field),
      ttlMs: fc.oneof(fc.constant(5000), field), session: field, request: field, name: field, mode: fc.oneof(fc.constantFrom('exclusive', 'shared', 'semaphore'), field),
      permits: field, limit: field, wait: field, lockDelayMs: field, afterIndex: field
    }, { requiredKeys: [] })
    const allowed = new Set(['ERR_INVALID_ARGUMENT', 'ERR_SESSION_EXPIRED'])
    await fc.assert(fc.asyncProperty(fc.constantFrom('lock.execute', 'lock.awaitGrant'), body, async (op, request) => {
      const controller = new AbortController()
      // A well-formed grant wait may legitimately wait: give it a moment, then cancel it.
      const timer = setTimeout(() => { controller.abort() }, 5)
      try {
        await client.request(op === 'lock.execute' ? { op, request } : { op, wait: request }, { signal: controller.signal })
      } catch (error) {
        const code = (error as { code?: string }).code ?? ''
        expect(allowed.has(code) || code === 'ERR_ABORTED' || (op === 'lock.awaitGrant' && code === 'ERR_NOT_HELD')).toBe(true)
      } finally {
        clearTimeout(timer)
      }
    }), { seed: 6, numRuns: 150 })
    expect((await execute(client, { type: 'open-session', ttlMs: 5000 })).result).toMatchObject({ type: 'session-opened' })
  })

  it('answers ERR_NOT_LEADER with the leader hint and its client URL', async () => {
    const client = await startApi({ apiUrlOf: (id) => `ws://${id}.example:7001` })
    lockLog.setLeader(false, 'n2')
    expect(await failure(execute(client, { type: 'open-session', ttlMs: 5000 }))).toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n2', leaderUrl: 'ws://n2.example:7001' })
  })

  it('answers ERR_NOT_FOUND when the node serves no locks', async () => {
    const client = await startApi({}, false)
    expect(await failure(execute(client, { type: 'open-session', ttlMs: 5000 }))).toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(await client.request({ op: 'status' })).toMatchObject({ role: 'leader' })
  })
})
