import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import { createClient, type ClientInit, type SynodClient } from '../src/index.js'
import { FakeStore, deadAddress, startFakeNode, type Behaviour, type FakeNode, type FakeNodeInit, type Received } from './support/fake-node.js'
import { failure } from './support/failure.js'

const text = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

const nodes: FakeNode[] = []
const clients: SynodClient[] = []

async function node (init: Partial<FakeNodeInit> & { store: FakeStore }): Promise<FakeNode> {
  const started = await startFakeNode({ id: `n${nodes.length + 1}`, ...init })
  nodes.push(started)
  return started
}

function client (init: ClientInit): SynodClient {
  const created = createClient({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, timeoutMs: 5000, ...init }, { random: createRandom(7) })
  clients.push(created)
  return created
}

const writes = (target: FakeNode): Array<Record<string, unknown>> => target.received.filter((request) => ['put', 'del', 'cas'].includes(request.op))
const hang = async (_request: unknown, context: { signal: AbortSignal }): Promise<unknown> =>
  new Promise((resolve) => { context.signal.addEventListener('abort', () => { resolve(null) }) })

/**
 * The first `op` request any node sharing this behaviour receives applies (writes only, when a store
 * is given) and then crashes that node: its answer is lost with the connection.
 */
function crashOnFirst (op: string, store?: FakeStore): { behaviour: Behaviour, first: Received | undefined } {
  const crash: { behaviour: Behaviour, first: Received | undefined } = {
    first: undefined,
    behaviour: async (request, _context, self) => {
      if (request.op !== op || crash.first !== undefined) return undefined
      crash.first = request
      store?.write(request)
      await self.stop()
      return null
    }
  }
  return crash
}

afterEach(async () => {
  for (const created of clients.splice(0)) await created.close()
  for (const started of nodes.splice(0)) await started.stop()
})

describe('createClient', () => {
  it('puts, gets, compares-and-swaps, ranges, deletes and reads status', async () => {
    const store = new FakeStore()
    const a = await node({ store })
    const synod = client({ endpoints: [a.address] })
    expect(await synod.put('app/x', 'one')).toMatchObject({ ok: true, revision: 1, index: 1 })
    const item = await synod.get('app/x')
    expect(text(item?.value)).toBe('one')
    expect(item).toMatchObject({ key: 'app/x', createRevision: 1, modRevision: 1, version: 1 })
    expect((await synod.cas('app/x', 'two', { expectedRevision: 1 })).ok).toBe(true)
    expect((await synod.cas('app/x', 'three', { expectedRevision: 1 })).ok).toBe(false)
    await synod.put('app/y', new Uint8Array([1, 2]))
    const listed = await synod.range({ prefix: 'app/', limit: 1 })
    expect(listed.items.map((entry) => entry.key)).toEqual(['app/x'])
    expect(listed.more).toBe(true)
    expect((await synod.del('app/x')).ok).toBe(true)
    expect(await synod.get('app/x')).toBeUndefined()
    expect(await synod.status()).toMatchObject({ id: 'n1', role: 'leader' })
    const reads = a.received.filter((request) => request.op === 'get')
    expect(reads.every((request) => request.consistency === undefined)).toBe(true)
    await synod.get('app/y', { consistency: 'serializable' })
    expect(a.received.at(-1)).toMatchObject({ op: 'get', consistency: 'serializable' })
  })

  it('rejects bad arguments before sending anything', async () => {
    expect(() => createClient({ endpoints: [] })).toThrow(InvalidArgumentError)
    expect(() => createClient({ endpoints: ['http://127.0.0.1:1'] })).toThrow(/ws:\/\//)
    const store = new FakeStore()
    const a = await node({ store })
    const synod = client({ endpoints: [a.address] })
    expect(await failure(synod.cas('k', 'v', {}))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(writes(a)).toHaveLength(0)
  })

  it('attaches a session id and an increasing sequence number to every write', async () => {
    const store = new FakeStore()
    const a = await node({ store })
    const synod = client({ endpoints: [a.address], clientId: 'app-1' })
    await synod.put('a', '1')
    await synod.del('a')
    await synod.cas('a', '2', { expectedValue: null })
    expect(writes(a).map(({ client: id, seq }) => [id, seq])).toEqual([['app-1/0', 1], ['app-1/0', 2], ['app-1/0', 3]])
  })

  it('gives concurrent writes separate sessions, so none can be mistaken for a resend of another', async () => {
    const store = new FakeStore()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const a = await node({ store, behaviour: async (request) => { if (request.op === 'put') await gate } })
    const synod = client({ endpoints: [a.address], clientId: 'c' })
    const pending = Array.from({ length: 5 }, async (_, i) => synod.put(`k${i}`, 'v'))
    while (writes(a).length < 5) await new Promise((resolve) => setTimeout(resolve, 5))
    release()
    await Promise.all(pending)
    const sessions = writes(a).map((request) => request.client)
    expect(new Set(sessions).size).toBe(5)
    expect(store.applied).toBe(5)
    await synod.put('later', 'v')
    const last = writes(a).at(-1)
    expect(sessions).toContain(last?.client)
    expect(last?.seq).toBe(2)
  })

  it('spreads reads by the balancer policy and sends writes to the leader it learned', async () => {
    const store = new FakeStore()
    const leader = await node({ store })
    const followers = [
      await node({ store, role: 'follower', leader: { id: leader.id, url: leader.address } }),
      await node({ store, role: 'follower', leader: { id: leader.id, url: leader.address } })
    ]
    const synod = client({ endpoints: [leader.address, ...followers.map((f) => f.address)], policy: 'round-robin' })
    for (let i = 0; i < 6; i++) await synod.get('k', { consistency: 'serializable' })
    const reads = (target: FakeNode): number => target.received.filter((request) => request.op === 'get').length
    expect([leader, ...followers].map(reads)).toEqual([2, 2, 2])
    // Every node announced itself when its connection opened; the leader is known without a refusal.
    while (synod.leader() === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    for (let i = 0; i < 3; i++) await synod.put(`k${i}`, 'v')
    expect(writes(leader)).toHaveLength(3)
    expect(followers.map((f) => writes(f).length)).toEqual([0, 0])
  })

  it('follows a leader hint with a URL and then sends writes straight to the leader', async () => {
    const store = new FakeStore()
    const leader = await node({ store })
    const follower = await node({ store, role: 'follower', leader: { id: leader.id, url: leader.address } })
    const synod = client({ endpoints: [follower.address] })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    expect(synod.leader()).toBe(leader.address)
    await synod.put('k', 'w')
    expect(writes(follower)).toHaveLength(1)
    expect(writes(leader)).toHaveLength(2)
    expect(store.applied).toBe(2)
  })

  it('maps a leader hint that names a node id to the endpoint that node announced', async () => {
    const store = new FakeStore()
    const leader = await node({ store, id: 'leader-node' })
    const follower = await node({ store, id: 'follower-node', role: 'follower', leader: { id: 'leader-node' } })
    const synod = client({ endpoints: [follower.address, leader.address], policy: 'round-robin' })
    // Connecting makes each node announce its id.
    await synod.status({ endpoint: leader.address })
    await synod.status({ endpoint: follower.address })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    expect(synod.leader()).toBe(leader.address)
    expect(store.applied).toBe(1)
  })

  it('retries ERR_NOT_LEADER with backoff while no leader is known, then succeeds', async () => {
    const store = new FakeStore()
    let refusals = 3
    const a = await node({
      store,
      behaviour: (request, _context, self) => {
        if (request.op !== 'put') return undefined
        self.role = refusals-- > 0 ? 'follower' : 'leader'
        return undefined
      }
    })
    const synod = client({ endpoints: [a.address] })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    expect(writes(a)).toHaveLength(4)
    expect(store.applied).toBe(1)
  })

  it('resends a write whose connection died after it was applied, and the session makes it apply once', async () => {
    const store = new FakeStore()
    const crash = crashOnFirst('put', store)
    const a = await node({ store, behaviour: crash.behaviour })
    const b = await node({ store, behaviour: crash.behaviour })
    const synod = client({ endpoints: [a.address, b.address] })
    const result = await synod.put('k', 'v')
    expect(result).toMatchObject({ ok: true, revision: 1 })
    const [first, second] = [...writes(a), ...writes(b)].sort((x, y) => x === crash.first ? -1 : y === crash.first ? 1 : 0)
    expect(crash.first).toBeDefined()
    expect(second).toMatchObject({ client: first?.client, seq: first?.seq })
    expect(writes(a).length + writes(b).length).toBe(2)
    expect(store.applied).toBe(1)
    expect(store.entries.get('k')?.version).toBe(1)
  })

  it('never resends a write without a session once it may have been applied', async () => {
    const store = new FakeStore()
    const crash = crashOnFirst('put', store)
    const a = await node({ store, behaviour: crash.behaviour })
    const b = await node({ store, behaviour: crash.behaviour })
    const synod = client({ endpoints: [a.address, b.address], exactlyOnce: false })
    const error = await failure(synod.put('k', 'v'))
    expect(error).toMatchObject({ code: 'ERR_STOPPED', indeterminate: true })
    expect(crash.first?.client).toBeUndefined()
    expect(writes(a).length + writes(b).length).toBe(1)
    expect(store.applied).toBe(1)
  })

  it('resends a write without a session when the attempt certainly had no effect', async () => {
    const store = new FakeStore()
    const dead = await deadAddress()
    const leader = await node({ store })
    const follower = await node({ store, role: 'follower', leader: { id: leader.id, url: leader.address } })
    const synod = client({ endpoints: [dead, follower.address], policy: 'round-robin', exactlyOnce: false })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    expect((await synod.put('k', 'w')).ok).toBe(true)
    expect(store.applied).toBe(2)
    expect(writes(leader)).toHaveLength(2)
    expect(writes(follower).length).toBeLessThanOrEqual(1)
  })

  it('retries a read on another node after losing its connection', async () => {
    const store = new FakeStore()
    store.write({ op: 'put', key: 'k', value: new TextEncoder().encode('v') })
    const crash = crashOnFirst('get')
    const a = await node({ store, behaviour: crash.behaviour })
    const b = await node({ store, behaviour: crash.behaviour })
    const synod = client({ endpoints: [a.address, b.address] })
    expect(text((await synod.get('k'))?.value)).toBe('v')
    const reads = (target: FakeNode): number => target.received.filter((request) => request.op === 'get').length
    expect(crash.first).toBeDefined()
    expect([reads(a), reads(b)]).toEqual([1, 1])
  })

  it('fails with ERR_UNAVAILABLE, not indeterminate, when no node can be reached', async () => {
    const synod = client({ endpoints: [await deadAddress(), await deadAddress()], exactlyOnce: false, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } })
    expect(await failure(synod.put('k', 'v'))).toMatchObject({ code: 'ERR_UNAVAILABLE', indeterminate: false })
  })

  it('asks only the given endpoint for its status', async () => {
    const store = new FakeStore()
    const a = await node({ store })
    const dead = await deadAddress()
    const synod = client({ endpoints: [a.address, dead], retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })
    expect(await synod.status({ endpoint: a.address })).toMatchObject({ id: a.id })
    expect(await failure(synod.status({ endpoint: dead }))).toMatchObject({ code: 'ERR_UNAVAILABLE' })
  })

  it('gives up on a silent node after attemptTimeoutMs and resends to another, with the same session', async () => {
    const store = new FakeStore()
    let silent: string | undefined
    const behaviour: Behaviour = async (request, context, self) => {
      if (request.op !== 'put') return undefined
      silent ??= self.id
      return self.id === silent ? hang(request, context) : undefined
    }
    const a = await node({ store, behaviour })
    const b = await node({ store, behaviour })
    const synod = client({ endpoints: [a.address, b.address], attemptTimeoutMs: 100 })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    const [first, second] = silent === a.id ? [writes(a)[0], writes(b)[0]] : [writes(b)[0], writes(a)[0]]
    expect(second).toMatchObject({ client: first?.client, seq: first?.seq })
    expect(store.applied).toBe(1)

    const once = client({ endpoints: [silent === a.id ? a.address : b.address], attemptTimeoutMs: 100, exactlyOnce: false })
    expect(await failure(once.put('k', 'w'))).toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: true })
    expect(store.applied).toBe(1)
  })

  it('does not retry an answer such as ERR_INVALID_ARGUMENT', async () => {
    const store = new FakeStore()
    const a = await node({ store, behaviour: () => { throw new InvalidArgumentError('key too long', { field: 'key' }) } })
    const synod = client({ endpoints: [a.address] })
    expect(await failure(synod.get('k'))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'key' })
    expect(a.received.filter((request) => request.op === 'get')).toHaveLength(1)
  })

  it('aborts a call when its signal fires and tells the node to cancel', async () => {
    const store = new FakeStore()
    let cancelled = false
    const a = await node({
      store,
      behaviour: async (request, context) => {
        if (request.op !== 'put') return undefined
        context.signal.addEventListener('abort', () => { cancelled = true })
        return hang(request, context)
      }
    })
    const synod = client({ endpoints: [a.address] })
    const controller = new AbortController()
    const pending = synod.put('k', 'v', { signal: controller.signal })
    while (writes(a).length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    expect(await failure(pending)).toMatchObject({ code: 'ERR_ABORTED', indeterminate: true })
    while (!cancelled) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await failure(synod.get('k', { signal: AbortSignal.abort() }))).toMatchObject({ code: 'ERR_ABORTED', indeterminate: false })
    expect(a.received.filter((request) => request.op === 'get')).toHaveLength(0)
  })

  it('times out with ERR_TIMEOUT: indeterminate for a write that was sent, not for a read', async () => {
    const store = new FakeStore()
    // The node answers the client's first questions (its status, its shard map) and then goes silent.
    const a = await node({ store, behaviour: (request, context) => ['status', 'shards'].includes(request.op) ? undefined : hang(request, context) })
    const synod = client({ endpoints: [a.address] })
    expect(await failure(synod.put('k', 'v', { timeoutMs: 100 }))).toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: true })
    expect(await failure(synod.get('k', { timeoutMs: 100 }))).toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: false })
  })

  it('sends the token and reports a refusal without retrying', async () => {
    const store = new FakeStore()
    const a = await node({ store, token: 'sesame' })
    expect(await failure(client({ endpoints: [a.address], token: 'wrong' }).get('k'))).toMatchObject({ code: 'ERR_UNAUTHORIZED' })
    expect((await client({ endpoints: [a.address], token: 'sesame' }).put('k', 'v')).ok).toBe(true)
  })

  it('rejects calls in flight and later calls once closed', async () => {
    const store = new FakeStore()
    const a = await node({ store, behaviour: (request, context) => request.op === 'get' ? hang(request, context) : undefined })
    const synod = client({ endpoints: [a.address] })
    const pending = failure(synod.get('k'))
    while (!a.received.some((request) => request.op === 'get')) await new Promise((resolve) => setTimeout(resolve, 5))
    await synod.close()
    expect(await pending).toMatchObject({ code: 'ERR_STOPPED' })
    expect(await failure(synod.put('k', 'v'))).toMatchObject({ code: 'ERR_STOPPED' })
    await synod.close()
  })
})

describe('createClient: the first attempt’s fast path', () => {
  const gets = (target: FakeNode): Received[] => target.received.filter((request) => request.op === 'get')
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  it('honours abort and timeout on calls that reuse an earlier call’s controller, and never reuses one that fired', async () => {
    const store = new FakeStore()
    const a = await node({ store, behaviour: (request, context) => request.op === 'get' && request.key === 'slow' ? hang(request, context) : undefined })
    const synod = client({ endpoints: [a.address] })
    // Calls that got their answer leave their controllers to the next calls.
    for (let i = 0; i < 5; i++) await synod.put(`k${i}`, 'v')
    const controller = new AbortController()
    const aborted = synod.get('slow', { signal: controller.signal })
    await until(() => gets(a).length === 1)
    controller.abort()
    expect(await failure(aborted)).toMatchObject({ code: 'ERR_ABORTED' })
    expect(await failure(synod.get('slow', { timeoutMs: 50 }))).toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: false })
    // Had the aborted or timed-out controller been kept, these would fail at once.
    expect((await synod.put('after', 'v')).ok).toBe(true)
    expect(text((await synod.get('after'))?.value)).toBe('v')
  })

  it('follows a signal shared by many calls with one listener, ends them all when it fires, and leaves none behind', async () => {
    const store = new FakeStore()
    const a = await node({ store, behaviour: (request, context) => request.op === 'get' ? hang(request, context) : undefined })
    const synod = client({ endpoints: [a.address] })
    const done = new AbortController()
    await synod.put('warm', 'v', { signal: done.signal })
    expect(getEventListeners(done.signal, 'abort')).toHaveLength(0)
    const shared = new AbortController()
    const calls = Array.from({ length: 20 }, async (_, i) => failure(synod.get(`k${i}`, { signal: shared.signal })))
    await until(() => gets(a).length === 20)
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1)
    shared.abort()
    for (const error of await Promise.all(calls)) expect(error).toMatchObject({ code: 'ERR_ABORTED' })
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0)
  })
})
