import { describe, expect, it } from 'vitest'
import { murmur3 } from '@synod/ring'
import { parseShardMapView, type ShardMapView } from '../src/routing/shard-map.js'
import { Router } from '../src/routing/router.js'
import { ShardRouting } from '../src/routing/shard-routing.js'
import { ConnectionPool } from '../src/transport/connection-pool.js'
import { createManualClock } from '@synod/sim'

const url = (id: string): string => `ws://${id}.test:7101`
const silent = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child () { return silent } }

/** Four shards over n1..n3; shard s led by n(1 + s % 3), replicated on that node and the next. */
function map (epoch: number, leaderOf: (shard: number) => string = (shard) => `n${1 + shard % 3}`): ShardMapView {
  return parseShardMapView({
    epoch,
    shardCount: 4,
    nodes: ['n1', 'n2', 'n3'].map((id) => ({ id, address: id, wsUrl: url(id) })),
    shards: [0, 1, 2, 3].map((shard) => {
      const leader = leaderOf(shard)
      const next = `n${1 + (Number(leader.slice(1)) % 3)}`
      return { shard, replicas: [leader, next], leader, preferredLeader: leader, moving: false }
    })
  })
}

interface PendingFetch { prefer: string | undefined, resolve: (view: ShardMapView) => void }

function setup (): { routing: ShardRouting, clock: ReturnType<typeof createManualClock>, fetches: PendingFetch[] } {
  const clock = createManualClock()
  const fetches: PendingFetch[] = []
  const random = { next: () => 0.5, int: (max: number) => Math.floor(max / 2) }
  const router = new Router([url('n1')], 'round-robin', clock, random)
  const pool = new ConnectionPool({ token: undefined, connectTimeoutMs: 100, maxResponseBytes: 1024, onConnect: () => {} }, clock)
  const routing = new ShardRouting({
    router,
    pool,
    endpoints: [url('n1')],
    fetch: async (_signal, prefer) => new Promise((resolve) => { fetches.push({ prefer, resolve }) }),
    minRefreshIntervalMs: 100,
    clock,
    logger: silent
  })
  return { routing, clock, fetches }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }
const keyOfShard = (shard: number): string => {
  for (let i = 0; ; i++) if (murmur3(`k${i}`) % 4 === shard) return `k${i}`
}

describe('ShardRouting', () => {
  it('routes nothing until a sharded map arrives', async () => {
    const { routing, fetches } = setup()
    expect(routing.needsDiscovery()).toBe(true)
    expect(routing.route('k', 'write', undefined, new Set(), undefined)).toBeUndefined()
    const discovered = routing.discover(new AbortController().signal)
    fetches[0]?.resolve(map(1))
    await discovered
    expect(routing.needsDiscovery()).toBe(false)
    const key = keyOfShard(1)
    expect(routing.route(key, 'write', undefined, new Set(), undefined)?.endpoint).toBe(url('n2'))
    expect(routing.route(key, 'write', undefined, new Set([url('n2')]), undefined)?.endpoint).toBe(url('n3'))
  })

  it('asks again, of the announcing node, when the refresh under way brings an older map than a redirect announced', async () => {
    const { routing, clock, fetches } = setup()
    const first = routing.refresh()
    fetches[0]?.resolve(map(1))
    await first
    clock.advance(1000)

    // A refresh is under way (say from another redirect) when n1 announces epoch 3.
    const underWay = routing.refresh()
    const key = keyOfShard(0)
    expect(routing.followRedirect(url('n1'), key, { leaderHint: 'n3', leaderUrl: url('n3'), shard: 0, epoch: 3 })).toEqual({ next: url('n3') })
    expect(fetches).toHaveLength(2)
    fetches[1]?.resolve(map(2))
    await underWay
    expect(routing.view()?.epoch).toBe(2)
    // The redirect came from epoch 3: its leader outranks what the epoch-2 map says (n1).
    expect(routing.route(key, 'write', undefined, new Set(), undefined)?.endpoint).toBe(url('n3'))
    clock.advance(100)
    expect(fetches.map((fetch) => fetch.prefer)).toEqual([undefined, undefined, url('n1')])
    fetches[2]?.resolve(map(3, (shard) => shard === 0 ? 'n3' : `n${1 + shard % 3}`))
    await settle()
    expect(routing.view()?.epoch).toBe(3)
    expect(routing.route(key, 'write', undefined, new Set(), undefined)?.endpoint).toBe(url('n3'))
    clock.advance(10_000)
    expect(fetches).toHaveLength(3)
  })

  it('ignores a map older than the one it has, and an unsharded answer once sharded', async () => {
    const { routing, fetches } = setup()
    const first = routing.refresh()
    fetches[0]?.resolve(map(5))
    await first
    const older = routing.refresh()
    fetches[1]?.resolve(map(4, () => 'n3'))
    await older
    expect(routing.view()?.epoch).toBe(5)
    expect(routing.view()?.shards[0]?.leader).toBe('n1')
    const unsharded = routing.refresh()
    fetches[2]?.resolve(parseShardMapView({ epoch: 0, shardCount: 0, nodes: [], shards: [] }))
    expect(await unsharded).toMatchObject({ epoch: 5 })
  })
})
