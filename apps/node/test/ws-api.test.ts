import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { connectRpcClient, type RpcClient } from '@synod/transport-ws'
import type { KvResult } from '../src/kv/commands.js'
import { createKvStateMachine, type KvStateMachine } from '../src/kv/state-machine.js'
import { createJsonLogger } from '../src/system/logger.js'
import { createWsApi, type WsApi, type WsApiInit, type WsGetResponse, type WsRangeResponse, type WsWriteResponse } from '../src/ws-api/index.js'
import { createLocalLog } from './support/local-log.js'
import { failure } from './support/failure.js'

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const decode = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

let api: WsApi | undefined
const clients: RpcClient<unknown, unknown>[] = []
let log: ReturnType<typeof createLocalLog<KvResult>>
let kv: KvStateMachine

async function startApi (init: Partial<WsApiInit> = {}): Promise<string> {
  kv = createKvStateMachine()
  log = createLocalLog(kv)
  api = createWsApi({ listen: { port: 0 }, maxRequestBytes: 4096, ...init }, { log, kv, logger: createJsonLogger({ level: 'error', write: () => {} }) })
  await api.start()
  return api.address ?? ''
}

async function connect (address: string, token?: string): Promise<RpcClient<unknown, unknown>> {
  const client = await connectRpcClient(address, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
  clients.push(client)
  return client
}

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await api?.stop()
  api = undefined
})

describe('WebSocket client API', () => {
  it('puts, gets, compares-and-swaps on value and revision, ranges and deletes', async () => {
    const client = await connect(await startApi())
    const put = await client.request({ op: 'put', key: 'app/a', value: text('1') }) as WsWriteResponse
    expect(put).toMatchObject({ ok: true, revision: 1, index: 1 })
    const got = await client.request({ op: 'get', key: 'app/a' }) as WsGetResponse
    expect(got.revision).toBe(1)
    expect(got.item).toMatchObject({ key: 'app/a', createRevision: 1, modRevision: 1, version: 1 })
    expect(decode(got.item?.value)).toBe('1')

    const casByValue = await client.request({ op: 'cas', key: 'app/a', value: text('2'), expectedValue: text('1') }) as WsWriteResponse
    expect(casByValue).toMatchObject({ ok: true, revision: 2 })
    expect(decode(casByValue.previous)).toBe('1')
    expect((await client.request({ op: 'cas', key: 'app/a', value: text('x'), expectedValue: text('1') }) as WsWriteResponse).ok).toBe(false)
    expect((await client.request({ op: 'cas', key: 'app/a', value: text('x'), expectedRevision: 1 }) as WsWriteResponse).ok).toBe(false)
    expect((await client.request({ op: 'cas', key: 'app/a', value: text('3'), expectedRevision: 2 }) as WsWriteResponse).ok).toBe(true)
    expect((await client.request({ op: 'cas', key: 'app/new', value: text('n'), expectedValue: null }) as WsWriteResponse).ok).toBe(true)
    expect((await client.request({ op: 'cas', key: 'app/new', value: text('n'), expectedRevision: 0 }) as WsWriteResponse).ok).toBe(false)

    await client.request({ op: 'put', key: 'app/b', value: text('b') })
    await client.request({ op: 'put', key: 'other', value: text('o') })
    const all = await client.request({ op: 'range', prefix: 'app/' }) as WsRangeResponse
    expect(all.items.map((item) => item.key)).toEqual(['app/a', 'app/b', 'app/new'])
    expect(all.more).toBe(false)
    const limited = await client.request({ op: 'range', prefix: 'app/', limit: 2 }) as WsRangeResponse
    expect(limited.items.map((item) => item.key)).toEqual(['app/a', 'app/b'])
    expect(limited.more).toBe(true)

    expect((await client.request({ op: 'del', key: 'app/a' }) as WsWriteResponse).ok).toBe(true)
    expect((await client.request({ op: 'del', key: 'app/a' }) as WsWriteResponse).ok).toBe(false)
    expect((await client.request({ op: 'get', key: 'app/a' }) as WsGetResponse).item).toBeNull()
    expect(await client.request({ op: 'status' })).toMatchObject({ id: 'n1', role: 'leader', commitIndex: 11 })
  })

  it('answers an unsharded shard map, so a client keeps routing to one group', async () => {
    const client = await connect(await startApi())
    expect(await client.request({ op: 'shards' })).toEqual({ epoch: 0, shardCount: 0, nodes: [], shards: [] })
  })

  it('applies a write carrying a client id and sequence number once, however often it is sent', async () => {
    const client = await connect(await startApi())
    const write = { op: 'put', key: 'k', value: text('v'), client: 'c1', seq: 1 }
    const first = await client.request(write) as WsWriteResponse
    const again = await client.request(write) as WsWriteResponse
    expect(again.revision).toBe(first.revision)
    expect(kv.get('k')?.version).toBe(1)
    await client.request({ ...write, seq: 2 })
    expect(kv.get('k')?.version).toBe(2)
  })

  it('answers ERR_NOT_LEADER with the leader hint and its client URL, and still serves serializable reads', async () => {
    const client = await connect(await startApi({ apiUrlOf: (id) => `ws://${id}.example:7001` }))
    await client.request({ op: 'put', key: 'k', value: text('v') })
    log.setLeader(false, 'n2')
    const write = await failure(client.request({ op: 'put', key: 'k', value: text('w') }))
    expect(write).toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n2', leaderUrl: 'ws://n2.example:7001' })
    expect(await failure(client.request({ op: 'get', key: 'k' }))).toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n2' })
    const stale = await client.request({ op: 'get', key: 'k', consistency: 'serializable' }) as WsGetResponse
    expect(decode(stale.item?.value)).toBe('v')
    log.setLeader(false, undefined)
    const unknown = await failure(client.request({ op: 'del', key: 'k' }))
    expect(unknown.code).toBe('ERR_NOT_LEADER')
    expect(unknown.leaderUrl).toBeUndefined()
  })

  it('answers malformed requests with ERR_INVALID_ARGUMENT naming the field, and keeps serving', async () => {
    const client = await connect(await startApi())
    const cases: Array<[unknown, string]> = [
      ['put', 'request'],
      [{ op: 'nope' }, 'op'],
      [{ op: 'put', key: 'k', value: 'a string, not bytes' }, 'value'],
      [{ op: 'get', key: '' }, 'key'],
      [{ op: 'get', key: 'k', consistency: 'stale' }, 'consistency'],
      [{ op: 'range', limit: 0 }, 'limit'],
      [{ op: 'range', limit: 10_001 }, 'limit'],
      [{ op: 'cas', key: 'k', value: text('v'), expectedRevision: -1 }, 'expectedRevision'],
      [{ op: 'put', key: 'k', value: text('v'), client: 'c' }, 'seq'],
      [{ op: 'put', key: 'k', value: text('v'), seq: 1 }, 'client']
    ]
    for (const [request, field] of cases) {
      expect(await failure(client.request(request))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field })
    }
    expect(kv.size()).toBe(0)
    expect(await client.request({ op: 'put', key: 'k', value: text('v') })).toMatchObject({ ok: true })
  })

  it('never fails with anything but ERR_INVALID_ARGUMENT or an answer, whatever the request', async () => {
    const client = await connect(await startApi())
    const field = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null), fc.uint8Array({ maxLength: 8 }), fc.boolean())
    const request = fc.record({
      op: fc.oneof(fc.constantFrom('get', 'range', 'put', 'del', 'cas', 'status'), field),
      key: field, value: field, prefix: field, limit: field, consistency: field, expectedValue: field, expectedRevision: field, client: field, seq: field
    }, { requiredKeys: [] })
    await fc.assert(fc.asyncProperty(request, async (body) => {
      try {
        await client.request(body)
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_INVALID_ARGUMENT')
      }
    }), { seed: 9, numRuns: 200 })
    expect(await client.request({ op: 'status' })).toMatchObject({ role: 'leader' })
  })

  it('refuses a connection without the right token', async () => {
    const address = await startApi({ token: 'sesame' })
    expect(await failure(connect(address))).toMatchObject({ code: 'ERR_UNAUTHORIZED' })
    expect(await failure(connect(address, 'wrong'))).toMatchObject({ code: 'ERR_UNAUTHORIZED' })
    const client = await connect(address, 'sesame')
    expect(await client.request({ op: 'put', key: 'k', value: text('v') })).toMatchObject({ ok: true })
  })

  it('closes a connection that sends an oversized frame and keeps serving others', async () => {
    const address = await startApi({ maxRequestBytes: 1024 })
    const greedy = await connect(address)
    expect(await failure(greedy.request({ op: 'put', key: 'big', value: new Uint8Array(4096) }))).toMatchObject({ code: 'ERR_STOPPED' })
    expect(kv.size()).toBe(0)
    const client = await connect(address)
    expect(await client.request({ op: 'put', key: 'small', value: text('v') })).toMatchObject({ ok: true })
  })
})
