import type { SeededRandom } from '../random.js'

/**
 * A grudge lists directed cuts: `[from, to]` means packets from `from` to `to` are dropped.
 * A symmetric partition lists both directions.
 */
export type Cut = readonly [from: string, to: string]

/** Cuts every link between two groups, both ways. */
export function cutBetween (a: readonly string[], b: readonly string[]): Cut[] {
  const cuts: Cut[] = []
  for (const x of a) {
    for (const y of b) {
      if (x === y) continue
      cuts.push([x, y], [y, x])
    }
  }
  return cuts
}

/** Splits the nodes into a random minority and majority, cut from each other. */
export function randomHalves (nodes: readonly string[], random: SeededRandom): { groups: string[][], cuts: Cut[] } {
  const shuffled = random.shuffle(nodes)
  const minority = shuffled.slice(0, Math.floor(nodes.length / 2))
  const majority = shuffled.slice(minority.length)
  return { groups: [minority, majority], cuts: cutBetween(minority, majority) }
}

/** Cuts one node (usually the leader) off from every other node. */
export function isolate (nodes: readonly string[], target: string): { groups: string[][], cuts: Cut[] } {
  const rest = nodes.filter((node) => node !== target)
  return { groups: [[target], rest], cuts: cutBetween([target], rest) }
}

/**
 * Two halves that cannot see each other, joined by one bridge node that sees both: each half plus
 * the bridge can form a majority, so this tests that two leaders cannot both commit.
 */
export function bridge (nodes: readonly string[], random: SeededRandom): { bridgeNode: string, groups: string[][], cuts: Cut[] } {
  const shuffled = random.shuffle(nodes)
  const bridgeNode = shuffled[0] as string
  const rest = shuffled.slice(1)
  const left = rest.slice(0, Math.ceil(rest.length / 2))
  const right = rest.slice(left.length)
  return { bridgeNode, groups: [left, right], cuts: cutBetween(left, right) }
}

/**
 * Each node hears from a majority (itself included), but no two nodes share the same majority:
 * the nodes sit on a shuffled ring and each keeps only the links to its nearest neighbours. With
 * five nodes the cuts are symmetric (each sees both neighbours); with three a symmetric ring would
 * cut nothing, so each node hears only from its predecessor (a one-way ring).
 */
export function majorityRing (nodes: readonly string[], random: SeededRandom): { ring: string[], cuts: Cut[] } {
  const ring = random.shuffle(nodes)
  const n = ring.length
  const othersNeeded = Math.floor(n / 2) // a majority is floor(n/2)+1 including itself
  const cuts: Cut[] = []
  for (let i = 0; i < n; i++) {
    const to = ring[i] as string
    const hears = new Set<string>([to])
    if (n >= 5) {
      // symmetric: hear from the nearest othersNeeded neighbours, half on each side
      for (let k = 1; hears.size < othersNeeded + 1; k++) {
        hears.add(ring[(i + k) % n] as string)
        if (hears.size < othersNeeded + 1) hears.add(ring[(i - k + n) % n] as string)
      }
    } else {
      for (let k = 1; k <= othersNeeded; k++) hears.add(ring[(i - k + n) % n] as string)
    }
    for (const from of ring) if (!hears.has(from)) cuts.push([from, to])
  }
  return { ring, cuts }
}

/**
 * One-way: `target`'s packets to every other node are dropped while it still hears them
 * (`direction: 'outbound'`), or the reverse (`'inbound'`).
 */
export function oneWay (nodes: readonly string[], target: string, direction: 'outbound' | 'inbound'): Cut[] {
  const cuts: Cut[] = []
  for (const other of nodes) {
    if (other === target) continue
    cuts.push(direction === 'outbound' ? [target, other] : [other, target])
  }
  return cuts
}

/** Who can hear whom under a set of cuts: for each node, the nodes whose packets reach it. */
export function reachability (nodes: readonly string[], cuts: readonly Cut[]): Map<string, Set<string>> {
  const dropped = new Set(cuts.map(([from, to]) => `${from}>${to}`))
  const hears = new Map<string, Set<string>>()
  for (const to of nodes) hears.set(to, new Set(nodes.filter((from) => from === to || !dropped.has(`${from}>${to}`))))
  return hears
}
