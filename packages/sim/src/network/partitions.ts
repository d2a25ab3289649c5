import type { NodeId } from '@synod/interfaces'
import type { SimRandom } from '../random/random.js'

/** A partition as a set of cut directed links, plus a readable description for the trace. */
export interface PartitionPlan {
  /** Which shape produced it: `groups`, `halves`, `isolate`, `bridge`, `majority-ring`, `one-way`. */
  shape: string
  /** The directed links (from, to) that drop every message. */
  cuts: Array<[from: NodeId, to: NodeId]>
  /** For people: e.g. `halves [n1 n4] | [n2 n3 n5]`. */
  description: string
  /** Shape-specific detail: the groups, the bridge node, the ring order. */
  groups: NodeId[][]
}

const list = (nodes: readonly NodeId[]): string => `[${nodes.join(' ')}]`

/** Every node in one group is cut, both ways, from every node in another group. */
export function groupsPlan (groups: readonly (readonly NodeId[])[], shape = 'groups'): PartitionPlan {
  const cuts: Array<[NodeId, NodeId]> = []
  for (let i = 0; i < groups.length; i++) {
    for (let j = 0; j < groups.length; j++) {
      if (i === j) continue
      for (const from of groups[i] ?? []) {
        for (const to of groups[j] ?? []) cuts.push([from, to])
      }
    }
  }
  return { shape, cuts, description: `${shape} ${groups.map(list).join(' | ')}`, groups: groups.map((group) => [...group]) }
}

/** Two random sides: a minority of floor(n/2) nodes and a majority of the rest (Jepsen's `random-halves`). */
export function halvesPlan (nodes: readonly NodeId[], random: SimRandom): PartitionPlan {
  const shuffled = random.shuffle(nodes)
  const minority = shuffled.slice(0, Math.floor(nodes.length / 2)).sort()
  const majority = shuffled.slice(minority.length).sort()
  return groupsPlan([minority, majority], 'halves')
}

/** One node cut off from all others. */
export function isolatePlan (node: NodeId, nodes: readonly NodeId[]): PartitionPlan {
  return groupsPlan([[node], nodes.filter((other) => other !== node)], 'isolate')
}

/**
 * Two sides that cannot see each other, and one bridge node that sees both: each side plus the
 * bridge may form a majority, which is what trips up leader election and lease logic.
 */
export function bridgePlan (nodes: readonly NodeId[], random: SimRandom, bridge?: NodeId): PartitionPlan {
  const chosen = bridge ?? random.pick(nodes)
  const rest = random.shuffle(nodes.filter((node) => node !== chosen))
  const left = rest.slice(0, Math.floor(rest.length / 2)).sort()
  const right = rest.slice(left.length).sort()
  const plan = groupsPlan([left, right], 'bridge')
  return { ...plan, description: `bridge ${chosen} between ${list(left)} and ${list(right)}`, groups: [left, [chosen], right] }
}

/**
 * The nodes in a random ring; each node sees only the nodes within ring distance k, with k the
 * smallest distance that makes each node's view (itself plus 2k neighbours) a majority. Every node
 * sees a majority, but no two nodes see the same one (Jepsen's `majorities-ring`). With 3 nodes or
 * fewer nothing is cut.
 */
export function majorityRingPlan (nodes: readonly NodeId[], random: SimRandom): PartitionPlan {
  const ring = random.shuffle(nodes)
  const n = ring.length
  const majority = Math.floor(n / 2) + 1
  const reach = Math.ceil((majority - 1) / 2)
  const cuts: Array<[NodeId, NodeId]> = []
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue
      const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j))
      if (distance > reach) cuts.push([ring[i] as NodeId, ring[j] as NodeId])
    }
  }
  return { shape: 'majority-ring', cuts, description: `majority-ring ${ring.join(' - ')} (each sees neighbours within ${reach})`, groups: [ring] }
}

/** Messages from `from` to `to` are dropped; the reverse direction still flows. */
export function oneWayPlan (from: readonly NodeId[], to: readonly NodeId[]): PartitionPlan {
  const cuts: Array<[NodeId, NodeId]> = []
  for (const source of from) {
    for (const target of to) if (source !== target) cuts.push([source, target])
  }
  return { shape: 'one-way', cuts, description: `one-way ${list(from)} -/-> ${list(to)}`, groups: [[...from], [...to]] }
}
