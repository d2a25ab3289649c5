import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { murmur3 } from '@synod/ring'
import { parseShardMapView, shardOfKey, type ShardMapView } from '../src/routing/shard-map.js'
import { ShardMapRefresher } from '../src/routing/shard-refresh.js'
import { ShardTable } from '../src/routing/shard-table.js'
import { createManualClock } from '@synod/sim'

const url = (id: string): string => `ws://${id}.test:7101`

function map (epoch: number, shards: Array<[string[], string | null, string]>): ShardMapView {
  return parseShardMapView({
    epoch,
    shardCount: shards.length,
    nodes: ['n1', 'n2', 'n3', 'n4'].map((id) => ({ id, address: `${id}:7000`, wsUrl: url(id) })),
    shards: shards.map(([replicas, leader, preferredLeader], shard) => ({ shard, replicas, leader, preferredLeader, moving: false }))
  })
}

describe('shardOfKey', () => {
  it('is MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes modulo the shard count', () => {
    // Reference vectors of MurmurHash3_x86_32 with seed 0.
    expect(shardOfKey('', 7)).toBe(0)
    expect(shardOfKey('hello', 1000)).toBe(0x248bfa47 % 1000)
    expect(shardOfKey('Hello, world!', 64)).toBe(0xc0363e43 % 64)
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 4096 }), (key, shardCount) => {
      const shard = shardOfKey(key, shardCount)
      expect(shard).toBe(murmur3(new TextEncoder().encode(key)) % shardCount)
      expect(shard).toBeGreaterThanOrEqual(0)
      expect(shard).toBeLessThan(shardCount)
    }), { seed: 5, numRuns: 300 })
  })
})

describe('parseShardMapView', () => {
  it('accepts the contract shape and freezes it', () => {
    const view = parseShardMapView({
      epoch: 3,
      shardCount: 1,
      nodes: [{ id: 'n1', address: 'n1:7000', zone: 'a', apiUrl: 'http://n1:8080', wsUrl: 'ws://n1:7101', extra: true }],
      shards: [{ shard: 0, replicas: ['n1'], leader: null, preferredLeader: 'n1', moving: true }]
    })
    expect(view).toEqual({
      epoch: 3,
      shardCount: 1,
      nodes: [{ id: 'n1', address: 'n1:7000', zone: 'a', apiUrl: 'http://n1:8080', wsUrl: 'ws://n1:7101' }],
      shards: [{ shard: 0, replicas: ['n1'], leader: null, preferredLeader: 'n1', moving: true }]
    })
    expect(Object.isFrozen(view.shards[0]?.replicas)).toBe(true)
    expect(parseShardMapView({ epoch: 0, shardCount: 0, nodes: [], shards: [] }).shardCount).toBe(0)
  })

  it('ignores a wsUrl that is not a WebSocket URL', () => {
    const view = parseShardMapView({ epoch: 1, shardCount: 0, nodes: [{ id: 'n1', address: 'a', wsUrl: 'http://n1' }], shards: [] })
    expect(view.nodes[0]?.wsUrl).toBeUndefined()
  })

  it('rejects a malformed answer with ERR_BAD_RESPONSE', () => {
    const good = { epoch: 1, shardCount: 1, nodes: [], shards: [{ shard: 0, replicas: ['n1'], leader: 'n1', preferredLeader: 'n1', moving: false }] }
    for (const bad of [
      null, 'map', { ...good, epoch: -1 }, { ...good, shardCount: 1.5 }, { ...good, nodes: undefined },
      { ...good, nodes: [{ id: 1, address: 'a' }] },
      { ...good, shards: [{ ...good.shards[0], shard: 1 }] },
      { ...good, shards: [{ ...good.shards[0], replicas: [1] }] },
      { ...good, shards: [{ ...good.shards[0], leader: 7 }] },
      // A node's status answer, as a stand-in that answers every op with its status would send.
      { id: 'n1', role: 'leader', term: 1 }
    ]) {
      expect(() => parseShardMapView(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'ERR_BAD_RESPONSE' }))
    }
  })
})

describe('ShardTable', () => {
  it('routes to the hinted leader, else the map leader, else the preferred leader, else a replica', () => {
    const table = new ShardTable(map(1, [[['n1', 'n2', 'n3'], 'n2', 'n1']]))
    const none = new Set<string>()
    expect(table.leaderUrl(0, none)).toBe(url('n2'))
    expect(table.leaderUrl(0, new Set([url('n2')]))).toBe(url('n1'))
    expect(table.leaderUrl(0, new Set([url('n2'), url('n1')]))).toBe(url('n3'))
    expect(table.leaderUrl(0, new Set([url('n1'), url('n2'), url('n3')]))).toBeUndefined()
    table.noteLeader(0, 'n3')
    expect(table.leaderUrl(0, none)).toBe(url('n3'))
    // An election: no leader known, so the preferred leader first.
    table.noteLeader(0, null)
    expect(table.leaderUrl(0, none)).toBe(url('n1'))
    expect(table.replicaUrls(0)).toEqual([url('n1'), url('n2'), url('n3')])
  })

  it('learns the URL of a leader the map does not list yet', () => {
    const table = new ShardTable(map(1, [[['n1', 'n2'], 'n1', 'n1']]))
    table.noteLeader(0, 'n9', 'ws://n9.test:7101')
    expect(table.leaderUrl(0, new Set())).toBe('ws://n9.test:7101')
    expect(table.urlOf('n9')).toBe('ws://n9.test:7101')
  })

  it('shows redirect-learned leaders in its view, a new frozen object after each change', () => {
    const table = new ShardTable(map(1, [[['n1', 'n2'], 'n1', 'n1'], [['n2', 'n3'], 'n2', 'n2']]))
    const first = table.view()
    expect(table.view()).toBe(first)
    table.noteLeader(1, 'n3')
    const second = table.view()
    expect(second).not.toBe(first)
    expect(second.shards.map((shard) => shard.leader)).toEqual(['n1', 'n3'])
    expect(Object.isFrozen(second.shards[1])).toBe(true)
    expect(first.shards[1]?.leader).toBe('n2')
  })

  it('keeps redirect-learned leaders across a new map only where it names no leader or is older than the redirect', () => {
    const old = new ShardTable(map(1, [[['n1', 'n2'], 'n1', 'n1'], [['n2', 'n3'], 'n2', 'n2']]))
    old.noteLeader(0, 'n2')
    old.noteLeader(1, 'n3')
    const next = new ShardTable(map(2, [[['n1', 'n2'], 'n1', 'n1'], [['n2', 'n3'], null, 'n2']]), old)
    expect(next.leaderUrl(0, new Set())).toBe(url('n1'))
    expect(next.leaderUrl(1, new Set())).toBe(url('n3'))
  })

  it('forgets leaders at an endpoint that stopped answering', () => {
    const table = new ShardTable(map(1, [[['n1', 'n2'], 'n1', 'n2'], [['n2', 'n3'], 'n2', 'n2']]))
    expect(table.forgetLeaderAt(url('n1'))).toBe(true)
    expect(table.leaderUrl(0, new Set())).toBe(url('n2'))
    expect(table.leaderUrl(1, new Set())).toBe(url('n2'))
    expect(table.forgetLeaderAt(url('n4'))).toBe(false)
  })
})

interface PendingFetch { prefer: string | undefined, signal: AbortSignal, resolve: (view: ShardMapView) => void, reject: (error: Error) => void }

function harness (minIntervalMs = 100): { refresher: ShardMapRefresher, clock: ReturnType<typeof createManualClock>, fetches: PendingFetch[], applied: ShardMapView[], backgroundErrors: unknown[] } {
  const clock = createManualClock()
  const fetches: PendingFetch[] = []
  const applied: ShardMapView[] = []
  const backgroundErrors: unknown[] = []
  const refresher = new ShardMapRefresher({
    fetch: async (signal, prefer) => new Promise((resolve, reject) => {
      fetches.push({ prefer, signal, resolve, reject })
      signal.addEventListener('abort', () => { reject(new Error('cancelled')) })
    }),
    apply: (view) => { applied.push(view) },
    onBackgroundError: (error) => { backgroundErrors.push(error) },
    minIntervalMs
  }, clock)
  return { refresher, clock, fetches, applied, backgroundErrors }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

describe('ShardMapRefresher', () => {
  it('shares one fetch between every caller while it runs', async () => {
    const { refresher, fetches, applied } = harness()
    const waits = [refresher.refresh(), refresher.refresh(), refresher.refresh()]
    refresher.refreshSoon('ws://x')
    expect(fetches).toHaveLength(1)
    fetches[0]?.resolve(map(4, []))
    await Promise.all(waits)
    expect(applied.map((view) => view.epoch)).toEqual([4])
  })

  it('starts automatic refreshes at most once per interval, the one wanted too soon when the interval ends', async () => {
    const { refresher, clock, fetches } = harness(100)
    refresher.refreshSoon()
    fetches[0]?.resolve(map(1, []))
    await settle()
    clock.advance(10)
    refresher.refreshSoon('ws://a')
    refresher.refreshSoon('ws://b')
    expect(fetches).toHaveLength(1)
    clock.advance(89)
    expect(fetches).toHaveLength(1)
    clock.advance(1)
    expect(fetches.map((fetch) => fetch.prefer)).toEqual([undefined, 'ws://b'])
    // An explicit refresh is never held back.
    fetches[1]?.resolve(map(2, []))
    await settle()
    const explicit = refresher.refresh()
    expect(fetches).toHaveLength(3)
    fetches[2]?.resolve(map(3, []))
    await explicit
  })

  it('doubles the interval after each failed refresh and reports background failures', async () => {
    const { refresher, clock, fetches, backgroundErrors } = harness(100)
    refresher.refreshSoon()
    fetches[0]?.reject(new Error('down'))
    await settle()
    expect(backgroundErrors).toHaveLength(1)
    clock.advance(100)
    expect(refresher.mayStart()).toBe(false)
    clock.advance(100)
    expect(refresher.mayStart()).toBe(true)
    refresher.refreshSoon()
    fetches[1]?.reject(new Error('down'))
    await settle()
    clock.advance(399)
    expect(refresher.mayStart()).toBe(false)
    clock.advance(1)
    expect(refresher.mayStart()).toBe(true)
    refresher.refreshSoon()
    fetches[2]?.resolve(map(1, []))
    await settle()
    clock.advance(100)
    expect(refresher.mayStart()).toBe(true)
  })

  it('cancels the fetch when its last waiter gives up, not before, and not a background one', async () => {
    const { refresher, fetches } = harness()
    const first = new AbortController()
    const second = new AbortController()
    const waits = [refresher.refresh({ signal: first.signal }), refresher.refresh({ signal: second.signal })]
    first.abort()
    await expect(waits[0]).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(fetches[0]?.signal.aborted).toBe(false)
    second.abort()
    await expect(waits[1]).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(fetches[0]?.signal.aborted).toBe(true)
    // The cancelled fetch does not hold the next caller back.
    expect(refresher.mayStart()).toBe(true)

    const third = new AbortController()
    const wait = refresher.refresh({ signal: third.signal })
    refresher.refreshSoon()
    third.abort()
    await expect(wait).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(fetches[1]?.signal.aborted).toBe(false)
    await expect(refresher.refresh({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  it('survives a fetch that throws before returning a promise', async () => {
    const refresher = new ShardMapRefresher({
      fetch: () => { throw new Error('no node to ask') },
      apply: () => {},
      onBackgroundError: () => {},
      minIntervalMs: 100
    }, createManualClock())
    await expect(refresher.refresh()).rejects.toThrow('no node to ask')
    expect(refresher.inFlight).toBe(false)
    await expect(refresher.refresh()).rejects.toThrow('no node to ask')
  })

  it('stops: cancels the fetch in flight and the scheduled one, and refuses new ones', async () => {
    const { refresher, clock, fetches } = harness(100)
    refresher.refreshSoon()
    const waiting = refresher.refresh()
    refresher.close()
    await expect(waiting).rejects.toBeDefined()
    expect(fetches[0]?.signal.aborted).toBe(true)
    clock.advance(1000)
    refresher.refreshSoon()
    expect(fetches).toHaveLength(1)
    await expect(refresher.refresh()).rejects.toMatchObject({ code: 'ERR_STOPPED' })
  })
})
