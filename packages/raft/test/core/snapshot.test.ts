import { describe, expect, it } from 'vitest'
import { Network } from '../harness/network.js'

describe('snapshots (Raft §7)', () => {
  it('a follower behind the leader\'s compacted log is sent a snapshot and then the rest', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.isolate('c')
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`)
    net.snapshotAndCompact('a')
    expect(net.core('a').status().firstIndex).toBe(7)
    net.propose('a', 'after')
    net.heal()
    net.tickAll(3)
    const c = net.node('c')
    expect(net.node('a').snapshotSends).toEqual([{ to: 'c', index: 6 }])
    expect(c.snapshot.index).toBe(6)
    expect(c.log.firstIndex()).toBe(7)
    expect(c.core.status()).toMatchObject({ commitIndex: 7, lastIndex: 7 })
    expect(c.appliedCommands()).toEqual(['after'])
    expect(net.core('a').status().progress.c).toMatchObject({ state: 'replicate', match: 7 })
  })

  it('a failed snapshot transfer falls back to probing and is retried', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.isolate('c')
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`)
    net.snapshotAndCompact('a')
    net.autoSnapshot = false
    net.heal()
    net.tickAll(1)
    expect(net.core('a').status().progress.c?.state).toBe('snapshot')
    net.core('a').reportSnapshot('c', false)
    expect(net.core('a').status().progress.c?.state).toBe('probe')
    net.autoSnapshot = true
    net.tickAll(3)
    expect(net.core('c').status().commitIndex).toBe(4)
    expect(net.node('a').snapshotSends.length).toBe(2)
  })

  it('snapshot chunks count as leader contact, so a follower receiving a long snapshot does not campaign', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: false, electionTicks: 10 })
    net.elect('a')
    const c = net.core('c')
    for (let i = 0; i < 100; i++) {
      c.tick()
      c.step({ type: 'snapshot-chunk', from: 'a', to: 'c', term: 1, meta: { index: 9, term: 1, config: c.status().config }, offset: i, data: new Uint8Array(1), done: false })
    }
    expect(c.status()).toMatchObject({ role: 'follower', term: 1, leader: 'a' })
  })

  it('a snapshot the follower already covers is ignored', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    net.propose('a', 'x')
    const b = net.core('b')
    expect(b.snapshotReceived('a', { index: 1, term: 1, config: b.status().config })).toBe(false)
    expect(b.status().commitIndex).toBe(2)
  })
})

describe('entries older than the in-memory cache', () => {
  it('are fetched from storage to catch up a lagging follower and to apply', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, maxCacheBytes: 0 })
    net.elect('a')
    net.isolate('c')
    for (let i = 0; i < 20; i++) net.propose('a', `v${i}`)
    // Everything applied and durable was evicted from a's memory.
    const status = net.core('a').status()
    expect(status.lastIndex).toBe(21)
    let fetches = 0
    const original = net.processReady.bind(net)
    net.processReady = (id) => {
      const rd = original(id)
      if (id === 'a' && rd !== undefined) fetches += rd.fetches.length
      return rd
    }
    net.heal()
    net.tickAll(3)
    expect(fetches).toBeGreaterThan(0)
    expect(net.node('c').appliedCommands()).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`))
  })

  it('a restarted node reads its committed entries back from storage to apply them', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false })
    net.elect('a')
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`)
    net.tickAll(1)
    const b = net.node('b')
    b.restart()
    expect(b.core.status()).toMatchObject({ commitIndex: 4, appliedIndex: 0 })
    net.deliver()
    expect(b.appliedCommands()).toEqual(['v0', 'v1', 'v2'])
  })
})
