import { afterEach, describe, expect, it } from 'vitest'
import { NotLeaderError } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import { createClient, type ClientInit, type SynodClient } from '../src/index.js'
import { FakeStore, startFakeNode, type FakeNode, type Received } from './support/fake-node.js'
import { startFakeShardedCluster, type FakePlacement, type FakeShardedCluster } from './support/fake-sharded-cluster.js'
import { failure } from './support/failure.js'

const clusters: FakeShardedCluster[] = []
const nodes: FakeNode[] = []
const clients: SynodClient[] = []

function client (init: ClientInit): SynodClient {
  const created = createClient({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, timeoutMs: 5000, ...init }, { random: createRandom(11) })
  clients.push(created)
  return created
}

/**
 * Eight shards on three nodes, two replicas each, leaders spread: every node leads some shards,
 * hosts others as a follower, and does not host the rest (so all three routing cases occur).
 */
const PLACEMENT: FakePlacement[] = [
  { replicas: ['n1', 'n2'], leader: 'n1', preferredLeader: 'n1' },
  { replicas: ['n2', 'n3'], leader: 'n2', preferredLeader: 'n2' },
  { replicas: ['n3', 'n1'], leader: 'n3', preferredLeader: 'n3' },
  { replicas: ['n1', 'n3'], leader: 'n1', preferredLeader: 'n1' },
  { replicas: ['n2', 'n1'], leader: 'n2', preferredLeader: 'n2' },
  { replicas: ['n3', 'n2'], leader: 'n3', preferredLeader: 'n3' },
  { replicas: ['n1', 'n2'], leader: 'n2', preferredLeader: 'n1' },
  { replicas: ['n2', 'n3'], leader: 'n3', preferredLeader: 'n2' }
]

async function cluster (placement = PLACEMENT): Promise<FakeShardedCluster> {
  const started = await startFakeShardedCluster({ ids: ['n1', 'n2', 'n3'], placement })
  clusters.push(started)
  return started
}

const keyed = (target: FakeNode, op?: string): Received[] => target.received.filter((request) => op === undefined ? ['get', 'put', 'del', 'cas'].includes(request.op) : request.op === op)
const shardRequests = (target: FakeNode): number => target.received.filter((request) => request.op === 'shards').length
const totalShardRequests = (sharded: FakeShardedCluster): number => sharded.nodes.reduce((sum, node) => sum + shardRequests(node), 0)
const keys = Array.from({ length: 48 }, (_, i) => `user/${i}`)

/** Waits for something the client does in the background; fails the test after 5 s. */
async function until (condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`still waiting for ${condition.toString()}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

afterEach(async () => {
  for (const created of clients.splice(0)) await created.close()
  for (const started of clusters.splice(0)) await started.stop()
  for (const started of nodes.splice(0)) await started.stop()
})

describe('sharded routing', () => {
  it('sends each keyed call to its shard leader, reaching nodes the user did not list', async () => {
    const sharded = await cluster()
    const [n1] = sharded.nodes as [FakeNode]
    // Only one node is listed: the others come from the map.
    const synod = client({ endpoints: [n1.address] })
    for (const key of keys) await synod.put(key, `v-${key}`)
    for (const key of keys.slice(0, 16)) await synod.cas(key, 'w', { expectedRevision: sharded.stores[sharded.shardOf(key)]?.entries.get(key)?.modRevision ?? -1 })
    for (const key of keys.slice(0, 8)) expect(new TextDecoder().decode((await synod.get(key))?.value)).toBe(keys.indexOf(key) < 16 ? 'w' : `v-${key}`)
    await synod.del('user/0')

    // The keys cover every shard, and every request landed on its shard's leader: no redirect, no forward.
    expect(new Set(keys.map((key) => sharded.shardOf(key))).size).toBe(PLACEMENT.length)
    for (const node of sharded.nodes) {
      for (const request of keyed(node)) expect(sharded.placement[sharded.shardOf(request.key as string)]?.leader).toBe(node.id)
    }
    expect(sharded.redirects).toEqual([])
    expect(sharded.forwards).toBe(0)
    expect(sharded.nodes.map((node) => keyed(node).length).every((count) => count > 0)).toBe(true)
    // One map request for all those calls.
    expect(totalShardRequests(sharded)).toBe(1)

    const view = synod.shardMap()
    expect(view).toMatchObject({ epoch: 1, shardCount: 8 })
    expect(view?.nodes.map((node) => node.wsUrl)).toEqual(sharded.nodes.map((node) => node.address))
    expect(view?.shards[6]).toEqual({ shard: 6, replicas: ['n1', 'n2'], leader: 'n2', preferredLeader: 'n1', moving: false })
    expect(Object.isFrozen(view)).toBe(true)
  })

  it('spreads serializable reads over the shard replicas only', async () => {
    const sharded = await cluster()
    const synod = client({ endpoints: sharded.nodes.map((node) => node.address), policy: 'round-robin' })
    for (const key of keys) await synod.put(key, 'v')
    for (let round = 0; round < 4; round++) for (const key of keys) await synod.get(key, { consistency: 'serializable' })
    const reads = sharded.nodes.flatMap((node) => keyed(node, 'get').map((request) => ({ node: node.id, key: request.key as string })))
    expect(reads).toHaveLength(4 * keys.length)
    for (const read of reads) expect(sharded.placement[sharded.shardOf(read.key)]?.replicas).toContain(read.node)
    // Followers took some reads: they are not all on the leaders.
    expect(reads.some((read) => sharded.placement[sharded.shardOf(read.key)]?.leader !== read.node)).toBe(true)
    expect(sharded.redirects).toEqual([])
  })

  it('follows a redirect from a stale map in one retry, then refreshes the map from the redirecting node', async () => {
    const sharded = await cluster()
    const [n1, n2, n3] = sharded.nodes as [FakeNode, FakeNode, FakeNode]
    const synod = client({ endpoints: [n1.address] })
    const key = keys.find((candidate) => sharded.shardOf(candidate) === 0) as string
    await synod.put(key, 'before')
    expect(keyed(n1, 'put')).toHaveLength(1)

    // Shard 0 moves from {n1, n2} to {n2, n3} with n3 leading: a new metadata epoch.
    Object.assign(sharded.placement[0] as FakePlacement, { replicas: ['n3', 'n2'], leader: 'n3', preferredLeader: 'n3' })
    sharded.epoch = 2

    expect((await synod.put(key, 'after')).ok).toBe(true)
    // n1 refused once with a hint; the retry went straight to n3.
    expect(sharded.redirects).toEqual([{ node: 'n1', op: 'put', shard: 0 }])
    expect(keyed(n1, 'put')).toHaveLength(2)
    expect(keyed(n3, 'put')).toHaveLength(1)
    expect(keyed(n2, 'put')).toHaveLength(0)
    expect(sharded.stores[0]?.applied).toBe(2)

    // The map refreshes in the background, from the node that announced the newer epoch.
    await until(() => synod.shardMap()?.epoch === 2)
    expect(shardRequests(n1)).toBe(2)
    expect(synod.shardMap()?.shards[0]).toMatchObject({ replicas: ['n3', 'n2'], leader: 'n3' })
    await synod.put(key, 'again')
    expect(keyed(n3, 'put')).toHaveLength(2)
    expect(sharded.redirects).toHaveLength(1)
  })

  it('backs off on a redirect without a hint (the shard is electing), tries another replica and refreshes the map', async () => {
    const sharded = await cluster()
    const [n1, n2, n3] = sharded.nodes as [FakeNode, FakeNode, FakeNode]
    const synod = client({ endpoints: [n1.address], shardMapRefreshMs: 20 })
    await synod.refreshShardMap()
    // Shard 0 moved from {n1, n2} to {n2, n3}; n1 knows the new epoch but not who leads yet.
    Object.assign(sharded.placement[0] as FakePlacement, { replicas: ['n3', 'n2'], leader: 'n3', preferredLeader: 'n3' })
    sharded.epoch = 2
    // The new map is held back until the write is done, so the write cannot have used it.
    let release: () => void = () => {}
    const mapHeld = new Promise<void>((resolve) => { release = resolve })
    sharded.before = async (request, _context, self) => {
      if (request.op === 'shards') await mapHeld
      if (self.id !== 'n1' || request.op !== 'put') return undefined
      throw Object.assign(new NotLeaderError('electing', {}), { shard: 0, epoch: 2 })
    }
    const key = keys.find((candidate) => sharded.shardOf(candidate) === 0) as string
    expect((await synod.put(key, 'v')).ok).toBe(true)
    // n1 refused without a hint; the retry went to the map's other replica, n2, which forwarded.
    expect([keyed(n1, 'put').length, keyed(n2, 'put').length, keyed(n3, 'put').length]).toEqual([1, 1, 0])
    expect(sharded.forwards).toBe(1)
    // Meanwhile the client asked for the map.
    await until(() => totalShardRequests(sharded) === 2)
    release()
    await until(() => synod.shardMap()?.epoch === 2)
    await synod.put(key, 'w')
    expect(keyed(n3, 'put')).toHaveLength(1)
    expect(sharded.forwards).toBe(1)
  })

  it('refreshes once for a burst of redirects, and updates a shard leader without a refresh when the epoch is the same', async () => {
    const sharded = await cluster()
    const [n1, , n3] = sharded.nodes as [FakeNode, FakeNode, FakeNode]
    const synod = client({ endpoints: [n1.address], shardMapRefreshMs: 100 })
    await synod.refreshShardMap()
    expect(totalShardRequests(sharded)).toBe(1)

    // Every shard n1 leads moves to n3 at once.
    for (const entry of sharded.placement) {
      if (entry.leader === 'n1') Object.assign(entry, { replicas: ['n3', 'n2'], leader: 'n3', preferredLeader: 'n3' })
    }
    sharded.epoch = 2
    const moved = keys.filter((key) => sharded.placement[sharded.shardOf(key)]?.leader === 'n3')
    await Promise.all(moved.map(async (key) => synod.put(key, 'v')))
    await until(() => synod.shardMap()?.epoch === 2)
    // Redirects from the burst shared one fetch (and the rate limit held back any other).
    expect(totalShardRequests(sharded)).toBe(2)
    expect(keyed(n3, 'put')).toHaveLength(moved.length)

    // A redirect at the epoch the client already has, naming a leader: the client follows and
    // remembers it, without fetching the map again.
    const shard = sharded.shardOf(moved[0] as string)
    Object.assign(sharded.placement[shard] as FakePlacement, { replicas: ['n2', 'n1'], leader: 'n2', preferredLeader: 'n2' })
    await synod.put(moved[0] as string, 'w')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(synod.shardMap()?.shards[shard]?.leader).toBe('n2')
    expect(totalShardRequests(sharded)).toBe(2)
  })

  it('routes range to any node, which gathers every shard', async () => {
    const sharded = await cluster()
    const synod = client({ endpoints: [sharded.nodes[0]?.address as string] })
    for (const key of keys) await synod.put(key, 'v')
    const listed = await synod.range({ prefix: 'user/', limit: 100 })
    expect(listed.items.map((item) => item.key)).toEqual([...keys].sort())
    expect(sharded.nodes.reduce((sum, node) => sum + keyed(node, 'range').length, 0)).toBe(1)
  })

  it('keeps the unsharded routing for a node that answers shardCount 0', async () => {
    const store = new FakeStore()
    const unsharded = (request: Received): unknown => request.op === 'shards' ? { epoch: 0, shardCount: 0, nodes: [], shards: [] } : undefined
    const leader = await startFakeNode({ id: 'n1', store, behaviour: unsharded })
    const follower = await startFakeNode({ id: 'n2', store, role: 'follower', leader: { id: 'n1', url: leader.address }, behaviour: unsharded })
    nodes.push(leader, follower)
    const synod = client({ endpoints: [follower.address] })
    expect((await synod.put('k', 'v')).ok).toBe(true)
    await synod.put('k', 'w')
    // As before sharding: the follower's hint is the cluster's leader, and writes then go there.
    expect(synod.leader()).toBe(leader.address)
    expect(keyed(follower, 'put')).toHaveLength(1)
    expect(keyed(leader, 'put')).toHaveLength(2)
    expect(synod.shardMap()).toBeUndefined()
    expect(shardRequests(leader) + shardRequests(follower)).toBe(1)
    expect(await synod.refreshShardMap()).toBeUndefined()
  })

  it('treats a node that answers ERR_INVALID_ARGUMENT to shards as unsharded, and asks only once', async () => {
    const store = new FakeStore()
    const old = await startFakeNode({ id: 'n1', store })
    nodes.push(old)
    const synod = client({ endpoints: [old.address] })
    for (let i = 0; i < 5; i++) await synod.put(`k${i}`, 'v')
    expect(new TextDecoder().decode((await synod.get('k1'))?.value)).toBe('v')
    expect(synod.shardMap()).toBeUndefined()
    expect(shardRequests(old)).toBe(1)
    expect(keyed(old, 'put')).toHaveLength(5)
    expect(store.applied).toBe(5)
  })

  it('learns a cluster is sharded from a redirect that names a shard, even after an old node said otherwise', async () => {
    const sharded = await cluster()
    const [n1] = sharded.nodes as [FakeNode]
    // n1 was upgraded last: it still answers `shards` as an old node would.
    sharded.answers.set('n1', () => { throw Object.assign(new Error('op must be one of ...'), { code: 'ERR_INVALID_ARGUMENT' }) })
    const synod = client({ endpoints: [n1.address] })
    const key = keys.find((candidate) => !sharded.placement[sharded.shardOf(candidate)]?.replicas.includes('n1')) as string
    expect((await synod.put(key, 'v')).ok).toBe(true)
    expect(sharded.redirects).toHaveLength(1)
    sharded.answers.delete('n1')
    await until(() => synod.shardMap() !== undefined)
    expect(synod.shardMap()?.epoch).toBe(1)
  })

  it('respects the abort signal and the deadline while the map is being fetched', async () => {
    const sharded = await cluster()
    const [n1] = sharded.nodes as [FakeNode]
    let cancelled = 0
    sharded.before = async (request, context) => {
      if (request.op !== 'shards') return undefined
      // A node that never answers the map request; it notes when the client cancels it.
      return new Promise((resolve) => { context.signal.addEventListener('abort', () => { cancelled++; resolve(null) }) })
    }
    const synod = client({ endpoints: [n1.address] })

    const controller = new AbortController()
    const refreshing = synod.refreshShardMap({ signal: controller.signal })
    await until(() => shardRequests(n1) === 1)
    controller.abort()
    expect(await failure(refreshing)).toMatchObject({ code: 'ERR_ABORTED' })
    // The only caller gave up, so the fetch itself was cancelled on the node.
    await until(() => cancelled === 1)

    const put = new AbortController()
    const writing = synod.put('user/1', 'v', { signal: put.signal })
    await until(() => shardRequests(n1) === 2)
    put.abort()
    // Nothing was sent for the key: the write certainly did not happen.
    expect(await failure(writing)).toMatchObject({ code: 'ERR_ABORTED', indeterminate: false })
    expect(await failure(synod.get('user/1', { timeoutMs: 50 }))).toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: false })
    expect(await failure(synod.refreshShardMap({ timeoutMs: 50 }))).toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(sharded.nodes.every((node) => keyed(node).length === 0)).toBe(true)
  })

  it('routes as unsharded when no node answers the map, and asks again later', async () => {
    const sharded = await cluster()
    const [n1] = sharded.nodes as [FakeNode]
    let failing = true
    sharded.answers.set('n1', () => {
      if (failing) throw Object.assign(new Error('overloaded'), { code: 'ERR_INTERNAL' })
      return sharded.map()
    })
    const synod = client({ endpoints: [n1.address], shardMapRefreshMs: 20 })
    const key = keys.find((candidate) => sharded.placement[sharded.shardOf(candidate)]?.leader === 'n2') as string
    // No map: the call goes to the listed node, which forwards or redirects.
    expect((await synod.put(key, 'v')).ok).toBe(true)
    expect(synod.shardMap()).toBeUndefined()
    failing = false
    // A later keyed call (or the redirect's refresh) asks again once the interval has passed.
    await new Promise((resolve) => setTimeout(resolve, 60))
    await synod.put(key, 'w')
    await until(() => synod.shardMap() !== undefined)
    const [redirects, forwards, atLeader] = [sharded.redirects.length, sharded.forwards, keyed(sharded.node('n2'), 'put').length]
    await synod.put(key, 'x')
    expect([sharded.redirects.length, sharded.forwards, keyed(sharded.node('n2'), 'put').length]).toEqual([redirects, forwards, atLeader + 1])
    expect(sharded.stores[sharded.shardOf(key)]?.applied).toBe(3)
  })

  it('keeps a call in flight on a node that leaves the map, and stops routing there', async () => {
    const sharded = await cluster()
    const [n1, n2, n3] = sharded.nodes as [FakeNode, FakeNode, FakeNode]
    const synod = client({ endpoints: [n1.address] })
    await synod.refreshShardMap()
    const key = keys.find((candidate) => sharded.placement[sharded.shardOf(candidate)]?.leader === 'n3') as string
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    // n3 holds the write until released, then applies it (it was still the leader when it took it).
    sharded.before = async (request, _context, self) => {
      if (self.id !== 'n3' || request.op !== 'put') return undefined
      await gate
      return sharded.stores[sharded.shardOf(key)]?.write(request)
    }
    const pending = synod.put(key, 'v')
    await until(() => keyed(n3, 'put').length === 1)

    // n3 leaves: every shard it held goes to n1 and n2.
    for (const entry of sharded.placement) {
      const replicas = entry.replicas.map((id) => id === 'n3' ? (entry.replicas.includes('n1') ? 'n2' : 'n1') : id)
      Object.assign(entry, { replicas, leader: replicas[0], preferredLeader: replicas[0] })
    }
    sharded.epoch = 2
    for (const id of ['n1', 'n2', 'n3']) sharded.answers.set(id, () => ({ ...sharded.map(), nodes: sharded.map().nodes.filter((node) => node.id !== 'n3') }))
    expect((await synod.refreshShardMap())?.nodes.map((node) => node.id)).toEqual(['n1', 'n2'])

    // The write already sent to n3 still gets its answer: its connection was not cut (give the
    // client time to act on the map first).
    await new Promise((resolve) => setTimeout(resolve, 50))
    release()
    expect((await pending).ok).toBe(true)
    await synod.put(key, 'w')
    for (let i = 0; i < 6; i++) await synod.range({ prefix: 'user/' })
    // n3 answered it: the client did not have to resend it elsewhere. Only the next write went to n1 or n2.
    expect(keyed(n3, 'put')).toHaveLength(1)
    expect([...keyed(n1, 'put'), ...keyed(n2, 'put')].filter((request) => request.key === key)).toHaveLength(1)
    expect(n3.received.filter((request) => request.op === 'range')).toHaveLength(0)
  })
})
