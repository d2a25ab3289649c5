import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { NotLeaderError, type AbortOptions } from '@synod/interfaces'
import { connectRpcClient, createRpcServer, type RpcClient, type RpcServer } from '../src/index.js'
import { waitFor } from './helpers.js'

type Req = { op: 'get', key: string } | { op: 'slow' } | { op: 'fail' } | { op: 'boom' } | { op: 'big', size: number }

const isReq = (value: unknown): value is Req => typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string'

const servers: RpcServer[] = []
const clients: Array<RpcClient<Req, unknown>> = []
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  for (const server of servers.splice(0)) await server.stop()
})

async function serve (overrides: Partial<Parameters<typeof createRpcServer<Req, unknown, string>>[0]> = {}): Promise<{ server: RpcServer, aborted: string[] }> {
  const aborted: string[] = []
  const server = createRpcServer<Req, unknown, string>({
    isRequest: isReq,
    authenticate: (request) => request.headers.authorization === 'Bearer good' ? 'alice' : undefined,
    async handler (request, { client, signal }) {
      if (request.op === 'get') return { key: request.key, client }
      if (request.op === 'fail') throw new NotLeaderError('not the leader', { leaderHint: 'n2', term: 7 })
      if (request.op === 'boom') throw new Error('secret internals')
      if (request.op === 'big') return new Uint8Array(request.size)
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted.push(String((signal.reason as { code?: string }).code))
          resolve()
        })
      })
      return 'never sent'
    },
    ...overrides
  })
  await server.start()
  servers.push(server)
  return { server, aborted }
}

async function client (server: RpcServer, token = 'good', options: AbortOptions = {}): Promise<RpcClient<Req, unknown>> {
  const c = await connectRpcClient<Req, unknown>(server.address!, { headers: { authorization: `Bearer ${token}` }, ...options })
  clients.push(c)
  return c
}

describe('client API server', () => {
  it('answers requests by id, concurrently, with the authenticated identity', async () => {
    const { server } = await serve()
    const c = await client(server)
    const answers = await Promise.all(['a', 'b', 'c'].map(async (key) => c.request({ op: 'get', key })))
    expect(answers).toEqual([{ key: 'a', client: 'alice' }, { key: 'b', client: 'alice' }, { key: 'c', client: 'alice' }])
    expect(server.connections()).toBe(1)
  })

  it('refuses a client the auth hook rejects', async () => {
    const { server } = await serve()
    await expect(client(server, 'bad')).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' })
    expect(server.connections()).toBe(0)
  })

  it('sends typed errors with their code and fields; hides other exceptions', async () => {
    const { server } = await serve()
    const c = await client(server)
    await expect(c.request({ op: 'fail' })).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n2', term: 7 })
    const hidden = await c.request({ op: 'boom' }).catch((err: unknown) => err)
    expect(hidden).toMatchObject({ code: 'ERR_INTERNAL' })
    expect((hidden as Error).message).not.toMatch(/secret/)
    await expect(c.request({ nope: true } as unknown as Req)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await c.request({ op: 'get', key: 'still works' })).toEqual({ key: 'still works', client: 'alice' })
  })

  it('aborting a request rejects it with ERR_ABORTED and cancels the handler', async () => {
    const { server, aborted } = await serve()
    const c = await client(server)
    const controller = new AbortController()
    const pending = c.request({ op: 'slow' }, { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await waitFor(() => aborted.length === 1, 'the handler to see the cancellation')
    await expect(c.request({ op: 'get', key: 'x' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  it('stopping the server aborts in-flight handlers and rejects pending requests', async () => {
    const { server, aborted } = await serve()
    const c = await client(server)
    const pending = c.request({ op: 'slow' })
    await waitFor(() => server.connections() === 1, 'the connection')
    await server.stop()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    expect(aborted.length).toBe(1)
  })

  it('a client that disconnects aborts its in-flight handlers', async () => {
    const { server, aborted } = await serve()
    const c = await client(server)
    const pending = c.request({ op: 'slow' })
    await waitFor(() => server.connections() === 1, 'the connection')
    await c.close()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await waitFor(() => aborted.length === 1, 'the handler to be aborted')
    expect(aborted).toEqual(['ERR_STOPPED'])
  })

  it('limits in-flight requests per connection with ERR_OVERLOADED', async () => {
    const { server } = await serve({ maxInFlightPerConnection: 2 })
    const c = await client(server)
    const slow = [c.request({ op: 'slow' }), c.request({ op: 'slow' })]
    for (const p of slow) p.catch(() => {})
    await expect(c.request({ op: 'get', key: 'x' })).rejects.toMatchObject({ code: 'ERR_OVERLOADED' })
  })

  it('closes a connection that sends an oversized or malformed frame, and keeps serving others', async () => {
    const { server } = await serve({ maxRequestBytes: 1024 })
    const good = await client(server)
    const big = await client(server)
    await expect(big.request({ op: 'get', key: 'k'.repeat(4096) })).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    const raw = new WebSocket(server.address!, { headers: { authorization: 'Bearer good' } })
    raw.on('error', () => {})
    const closed = new Promise<number>((resolve) => { raw.on('close', (code) => { resolve(code) }) })
    await new Promise((resolve) => raw.once('open', resolve))
    raw.send(Buffer.from([0xc1, 0x00, 0xff]))
    expect(await closed).toBe(4400)
    expect(await good.request({ op: 'get', key: 'ok' })).toEqual({ key: 'ok', client: 'alice' })
  })

  it('carries binary responses', async () => {
    const { server } = await serve()
    const c = await client(server)
    const bytes = await c.request({ op: 'big', size: 100_000 })
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect((bytes as Uint8Array).length).toBe(100_000)
  })
})
