import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bridge, cutBetween, isolate, majorityRing, oneWay, randomHalves, reachability } from '../src/net/grudge.js'
import { NFT_TABLE, nftHealScript, nftScript } from '../src/net/nft.js'
import { createSeededRandom } from '../src/random.js'
import { createTopology, namespacesOf, setupCommands } from '../src/topology.js'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`)
const majority = (n: number): number => Math.floor(n / 2) + 1

describe('topology', () => {
  const topology = createTopology({ size: 5 })

  it('gives every node its own namespace and a 10.x address', () => {
    expect(new Set(topology.nodes.map((n) => n.namespace)).size).toBe(5)
    expect(namespacesOf(topology)).toEqual(['synodf-bridge', 'synodf-n1', 'synodf-n2', 'synodf-n3', 'synodf-n4', 'synodf-n5', 'synodf-client'])
    for (const ip of [...topology.nodes.map((n) => n.ip), topology.clientIp]) expect(ip).toMatch(/^10\.77\.0\.\d+$/)
    expect(() => createTopology({ size: 3, subnet: '192.168.1' })).toThrow(/10\.x/)
  })

  it('never touches the root namespace: every link and address command names a namespace', () => {
    for (const command of setupCommands(topology)) {
      expect(command[0]).toBe('ip')
      const namespaced = command[1] === '-n' && namespacesOf(topology).includes(command[2] ?? '')
      const addsNamespace = command[1] === 'netns' && command[2] === 'add'
      expect(namespaced || addsNamespace, command.join(' ')).toBe(true)
      // a veth's far end goes straight into a host namespace
      if (command.includes('veth')) expect(command.slice(-2)[0]).toBe('netns')
    }
  })

  it('attaches one bridge port per host, the client included', () => {
    const ports = setupCommands(topology).filter((c) => c.includes('master')).map((c) => c[5])
    expect(ports).toEqual(['p-n1', 'p-n2', 'p-n3', 'p-n4', 'p-n5', 'p-client'])
  })
})

describe('partitions', () => {
  const sizes = fc.constantFrom(3, 5, 7)

  it('random halves: a minority and a majority, cut both ways, nothing else', () => {
    fc.assert(fc.property(sizes, fc.integer(), (n, seed) => {
      const nodes = ids(n)
      const { groups, cuts } = randomHalves(nodes, createSeededRandom(seed))
      const [a, b] = groups as [string[], string[]]
      expect([...a, ...b].sort()).toEqual([...nodes].sort())
      expect(b.length).toBe(majority(n))
      const hears = reachability(nodes, cuts)
      for (const x of a) for (const y of b) { expect(hears.get(x)?.has(y)).toBe(false); expect(hears.get(y)?.has(x)).toBe(false) }
      for (const group of groups) for (const x of group) for (const y of group) expect(hears.get(x)?.has(y)).toBe(true)
    }), { seed: 11 })
  })

  it('isolate: the target hears nobody and nobody hears it', () => {
    const hears = reachability(ids(5), isolate(ids(5), 'n3').cuts)
    expect([...(hears.get('n3') ?? [])]).toEqual(['n3'])
    for (const id of ['n1', 'n2', 'n4', 'n5']) expect(hears.get(id)?.has('n3')).toBe(false)
    expect(hears.get('n1')?.size).toBe(4)
  })

  it('bridge: the bridge node hears everyone, the two sides never hear each other, each side plus the bridge is a majority', () => {
    fc.assert(fc.property(sizes, fc.integer(), (n, seed) => {
      const nodes = ids(n)
      const p = bridge(nodes, createSeededRandom(seed))
      const hears = reachability(nodes, p.cuts)
      expect(hears.get(p.bridgeNode)?.size).toBe(n)
      const [left, right] = p.groups as [string[], string[]]
      for (const x of left) for (const y of right) expect(hears.get(x)?.has(y)).toBe(false)
      expect(left.length + 1).toBeGreaterThanOrEqual(majority(n))
    }), { seed: 12 })
  })

  it('majority ring: each node hears exactly a majority, and with 5 or more nodes no two hear the same majority', () => {
    fc.assert(fc.property(sizes, fc.integer(), (n, seed) => {
      const nodes = ids(n)
      const hears = reachability(nodes, majorityRing(nodes, createSeededRandom(seed)).cuts)
      for (const set of hears.values()) expect(set.size).toBe(majority(n))
      const distinct = new Set([...hears.values()].map((set) => [...set].sort().join(',')))
      expect(distinct.size).toBe(n)
    }), { seed: 13 })
  })

  it('majority ring with five nodes is symmetric', () => {
    const cuts = majorityRing(ids(5), createSeededRandom(7)).cuts
    const set = new Set(cuts.map(([a, b]) => `${a}>${b}`))
    for (const [a, b] of cuts) expect(set.has(`${b}>${a}`)).toBe(true)
  })

  it('one-way: outbound cuts only what the target sends', () => {
    const nodes = ids(3)
    const hears = reachability(nodes, oneWay(nodes, 'n1', 'outbound'))
    expect(hears.get('n1')?.size).toBe(3)
    expect(hears.get('n2')?.has('n1')).toBe(false)
    const inbound = reachability(nodes, oneWay(nodes, 'n1', 'inbound'))
    expect([...(inbound.get('n1') ?? [])]).toEqual(['n1'])
    expect(inbound.get('n2')?.has('n1')).toBe(true)
  })

  it('cutBetween never cuts a node from itself', () => {
    expect(cutBetween(['a', 'b'], ['b', 'c'])).not.toContainEqual(['b', 'b'])
  })
})

describe('nft rules', () => {
  const ipOf = (id: string): string => `10.77.0.${10 + Number(id.slice(1))}`

  it('drops each cut in its own direction on the bridge forward hook', () => {
    const script = nftScript({ cuts: [['n1', 'n2'], ['n3', 'n1']] }, ipOf, ids(3))
    expect(script).toContain(`table bridge ${NFT_TABLE} {`)
    expect(script).toContain('type filter hook forward priority 0; policy accept;')
    expect(script).toContain('ip saddr 10.77.0.11 ip daddr 10.77.0.12 drop')
    expect(script).toContain('ip saddr 10.77.0.13 ip daddr 10.77.0.11 drop')
    expect(script.match(/ drop$/gm)).toHaveLength(2)
    expect(script).not.toContain('numgen')
  })

  it('replaces the table atomically, whether or not it exists', () => {
    const script = nftScript({ cuts: [] }, ipOf, ids(3))
    const lines = script.split('\n')
    expect(lines[0]).toBe(`table bridge ${NFT_TABLE}`)
    expect(lines[1]).toBe(`delete table bridge ${NFT_TABLE}`)
    expect(nftHealScript()).toBe(`table bridge ${NFT_TABLE}\ndelete table bridge ${NFT_TABLE}\n`)
  })

  it('random loss applies between nodes only, so the client keeps its links', () => {
    const script = nftScript({ cuts: [], lossPercent: 20 }, ipOf, ids(3))
    expect(script).toContain('ip saddr { 10.77.0.11, 10.77.0.12, 10.77.0.13 } ip daddr { 10.77.0.11, 10.77.0.12, 10.77.0.13 } numgen random mod 100 < 20 drop')
    expect(() => nftScript({ cuts: [], lossPercent: 150 }, ipOf, ids(3))).toThrow(RangeError)
  })
})
