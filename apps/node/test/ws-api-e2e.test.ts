import { afterEach, describe, expect, it } from 'vitest'
import { createClient, type SynodClient } from '@synod/client'
import { NotLeaderError, type ReplicatedLog } from '@synod/interfaces'
import type { KvResult } from '../src/kv/commands.js'
import { createKvStateMachine, type KvStateMachine } from '../src/kv/state-machine.js'
import { createJsonLogger } from '../src/system/logger.js'
import { createWsApi, type WsApi, type WsApiInit } from '../src/ws-api/index.js'
import { createLocalLog } from './support/local-log.js'

const logger = createJsonLogger({ level: 'error', write: () => {} })
const text = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

const apis: WsApi[] = []
const clients: SynodClient[] = []

async function serve (log: ReplicatedLog<KvResult>, kv: KvStateMachine, init: Partial<WsApiInit> = {}): Promise<WsApi> {
  const api = createWsApi({ listen: { port: 0 }, ...init }, { log, kv, logger })
  await api.start()
  apis.push(api)
  return api
}

function client (endpoints: string[], token?: string): SynodClient {
  const created = createClient({ endpoints, token, retry: { baseDelayMs: 5, maxDelayMs: 50 }, timeoutMs: 5000 })
  clients.push(created)
  return created
}

/** The same log seen from a follower: it names `n1` as the leader and serves nothing itself. */
function followerOf (log: ReplicatedLog<KvResult>): ReplicatedLog<KvResult> {
  const refuse = (): never => { throw new NotLeaderError(undefined, { leaderHint: 'n1', term: 1 }) }
  return {
    ...log,
    id: 'n2',
    propose: async () => refuse(),
    readBarrier: async () => refuse(),
    status: () => ({ ...log.status(), id: 'n2', role: 'follower', leader: 'n1' }),
    isLeader: () => false
  }
}

afterEach(async () => {
  for (const created of clients.splice(0)) await created.close()
  for (const api of apis.splice(0)) await api.stop()
})

describe('@synod/client against the node WebSocket API', () => {
  it('serves every KV operation with revisions, and writes carry deduplication sessions', async () => {
    const kv = createKvStateMachine()
    const api = await serve(createLocalLog(kv), kv, { token: 'sesame' })
    const synod = client([api.address ?? ''], 'sesame')
    expect(await synod.put('config/a', 'one')).toMatchObject({ ok: true, revision: 1 })
    expect(await synod.put('config/b', new Uint8Array([0, 255]))).toMatchObject({ ok: true, revision: 2 })
    const a = await synod.get('config/a')
    expect(text(a?.value)).toBe('one')
    expect(a).toMatchObject({ createRevision: 1, modRevision: 1, version: 1 })
    expect(Array.from((await synod.get('config/b', { consistency: 'serializable' }))?.value ?? [])).toEqual([0, 255])
    const swapped = await synod.cas('config/a', 'two', { expectedValue: 'one' })
    expect(swapped.ok).toBe(true)
    expect(text(swapped.previous)).toBe('one')
    expect((await synod.cas('config/a', 'three', { expectedRevision: 1 })).ok).toBe(false)
    expect((await synod.cas('config/c', 'new', { expectedRevision: 0 })).ok).toBe(true)
    const listed = await synod.range({ prefix: 'config/', limit: 2 })
    expect(listed.items.map((item) => item.key)).toEqual(['config/a', 'config/b'])
    expect(listed.more).toBe(true)
    expect((await synod.del('config/a')).ok).toBe(true)
    expect(await synod.get('config/a')).toBeUndefined()
    expect(await synod.status()).toMatchObject({ id: 'n1', role: 'leader' })
    expect(kv.get('config/b')?.version).toBe(1)
    expect(await createClient({ endpoints: [api.address ?? ''], token: 'wrong' }).get('x').catch((error: unknown) => error)).toMatchObject({ code: 'ERR_UNAUTHORIZED' })
  })

  it('follows the leader URL a follower sends with ERR_NOT_LEADER', async () => {
    const kv = createKvStateMachine()
    const log = createLocalLog(kv)
    const leader = await serve(log, kv)
    const follower = await serve(followerOf(log), kv, { apiUrlOf: (id) => id === 'n1' ? leader.address : undefined })
    const synod = client([follower.address ?? ''])
    expect((await synod.put('k', 'v')).ok).toBe(true)
    expect(synod.leader()).toBe(leader.address)
    expect(text((await synod.get('k'))?.value)).toBe('v')
    expect(kv.get('k')?.version).toBe(1)
  })

  it('applies a write once when its answer is lost with the connection and the client resends it elsewhere', async () => {
    const kv = createKvStateMachine()
    const log = createLocalLog(kv)
    let crashed = false
    const crashing: ReplicatedLog<KvResult> = {
      ...log,
      async propose (command, options) {
        const result = await log.propose(command, options)
        if (!crashed) {
          crashed = true
          await first.stop() // applied, but the answer never leaves
        }
        return result
      }
    }
    const first = await serve(crashing, kv)
    // A follower that forwards proposals, as Raft does by default: the client prefers the leader once it knows it.
    const second = await serve({ ...log, status: () => ({ ...log.status(), id: 'n2', role: 'follower', leader: undefined }) }, kv)
    const synod = client([first.address ?? '', second.address ?? ''])
    // The balancer may pick either node until the client has learned which one leads.
    let puts = 0
    while (!crashed && puts < 200) {
      await synod.put('counter', String(puts))
      puts++
    }
    expect(crashed).toBe(true)
    // Every put applied exactly once, although the crashed one reached the log twice.
    expect(kv.get('counter')?.version).toBe(puts)
    expect(log.status().commitIndex).toBe(puts + 1)
    await synod.put('counter', 'after')
    expect(kv.get('counter')?.version).toBe(puts + 1)
  })

  it('waits out a restarting node and then writes', async () => {
    const kv = createKvStateMachine()
    const log = createLocalLog(kv)
    const api = await serve(log, kv)
    const address = api.address ?? ''
    const port = Number(new URL(address).port)
    const synod = client([address])
    await synod.put('k', '1')
    await api.stop()
    const pending = synod.put('k', '2')
    await new Promise((resolve) => setTimeout(resolve, 100))
    await serve(log, kv, { listen: { host: '127.0.0.1', port } })
    expect((await pending).ok).toBe(true)
    expect(kv.get('k')?.version).toBe(2)
  })
})
