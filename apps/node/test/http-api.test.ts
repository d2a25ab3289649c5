import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHttpApi } from '../src/http/server.js'
import type { KvResult } from '../src/kv/commands.js'
import { createKvStateMachine } from '../src/kv/state-machine.js'
import { createJsonLogger } from '../src/system/logger.js'
import { createLocalLog } from './support/local-log.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked with toMatchObject
type Json = Record<string, any>
let server: Server
let base: string
let log: ReturnType<typeof createLocalLog<KvResult>>

async function startApi (init: Parameters<typeof createHttpApi>[0] = {}): Promise<void> {
  const kv = createKvStateMachine()
  log = createLocalLog(kv)
  server = createHttpApi({ maxBodyBytes: 1024, ...init }, { log, kv, logger: createJsonLogger({ level: 'error', write: () => {} }) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function call (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number, json: Json }> {
  const res = await fetch(base + path, { method, body, headers })
  return { status: res.status, json: await res.json() as Json }
}

describe('HTTP API', () => {
  beforeEach(async () => { await startApi({ apiUrlOf: (id) => `http://${id}.example:7000` }) })
  afterEach(async () => { server.close(); await once(server, 'close') })

  it('puts, gets, lists, compares-and-swaps and deletes', async () => {
    expect((await call('PUT', '/v1/kv/greeting', 'hello')).json).toMatchObject({ ok: true, revision: 1 })
    expect((await call('GET', '/v1/kv/greeting')).json).toMatchObject({ key: 'greeting', value: 'hello', encoding: 'utf8', version: 1 })
    const cas = await call('POST', '/v1/kv/greeting/cas', JSON.stringify({ value: 'hi', expectedValue: 'hello' }))
    expect(cas.json).toMatchObject({ ok: true, previous: { value: 'hello' } })
    expect((await call('POST', '/v1/kv/greeting/cas', JSON.stringify({ value: 'x', expectedRevision: 1 }))).json.ok).toBe(false)
    await call('PUT', '/v1/kv/other', 'z')
    const listed = (await call('GET', '/v1/kv?prefix=gr')).json.items as Array<{ key: string }>
    expect(listed.map((item) => item.key)).toEqual(['greeting'])
    expect((await call('DELETE', '/v1/kv/greeting')).json.ok).toBe(true)
    expect((await call('GET', '/v1/kv/greeting')).status).toBe(404)
    expect((await call('GET', '/v1/status')).json).toMatchObject({ role: 'leader', commitIndex: 5 })
  })

  it('answers an unsharded map on /v1/shards and refuses a shard-scoped range', async () => {
    expect((await call('GET', '/v1/shards')).json).toEqual({ epoch: 0, shardCount: 0, nodes: [], shards: [] })
    expect(await call('GET', '/v1/kv?shard=3')).toMatchObject({ status: 400, json: { error: { code: 'ERR_INVALID_ARGUMENT' } } })
    await call('PUT', '/v1/kv/a1', 'x')
    await call('PUT', '/v1/kv/a2', 'y')
    expect((await call('GET', '/v1/kv?prefix=a&limit=1')).json).toMatchObject({ items: [{ key: 'a1' }], more: true })
  })

  it('returns binary values as base64', async () => {
    await fetch(`${base}/v1/kv/bin`, { method: 'PUT', body: new Uint8Array([0xff, 0x00, 0xfe]) })
    expect((await call('GET', '/v1/kv/bin')).json).toMatchObject({ value: Buffer.from([0xff, 0, 0xfe]).toString('base64'), encoding: 'base64' })
  })

  it('answers bad input with clear 4xx errors and keeps serving', async () => {
    expect(await call('POST', '/v1/kv/a/cas', '{not json')).toMatchObject({ status: 400, json: { error: { code: 'ERR_BAD_REQUEST' } } })
    expect(await call('POST', '/v1/kv/a/cas', '[1]')).toMatchObject({ status: 400 })
    expect(await call('POST', '/v1/kv/a/cas', JSON.stringify({ value: 3 }))).toMatchObject({ status: 400, json: { error: { code: 'ERR_INVALID_ARGUMENT' } } })
    expect(await call('PUT', '/v1/kv/big', 'x'.repeat(2048))).toMatchObject({ status: 413, json: { error: { code: 'ERR_TOO_LARGE' } } })
    expect(await call('GET', '/v2/nothing')).toMatchObject({ status: 404, json: { error: { code: 'ERR_NOT_FOUND' } } })
    expect(await call('PATCH', '/v1/kv/a')).toMatchObject({ status: 405 })
    expect(await call('GET', '/v1/kv?limit=0')).toMatchObject({ status: 400 })
    expect(await call('GET', '/v1/kv/a?consistency=eventual')).toMatchObject({ status: 400 })
    expect((await call('PUT', '/v1/kv/a', 'still works')).status).toBe(200)
  })

  it('points at the leader when this node is not it', async () => {
    log.setLeader(false, 'n2')
    const res = await call('PUT', '/v1/kv/a', 'v')
    expect(res).toMatchObject({ status: 421, json: { error: { code: 'ERR_NOT_LEADER', leaderHint: 'n2', leaderUrl: 'http://n2.example:7000' } } })
    expect((await call('GET', '/v1/kv/a?consistency=serializable')).status).toBe(404)
  })
})

describe('HTTP API with a token', () => {
  beforeEach(async () => { await startApi({ token: 's3cret' }) })
  afterEach(async () => { server.close(); await once(server, 'close') })

  it('refuses requests without the right bearer token', async () => {
    expect((await call('GET', '/v1/status')).status).toBe(401)
    expect((await call('GET', '/v1/status', undefined, { authorization: 'Bearer wrong!' })).status).toBe(401)
    expect((await call('GET', '/v1/status', undefined, { authorization: 'Bearer s3cret' })).status).toBe(200)
  })
})
