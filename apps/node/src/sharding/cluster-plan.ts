import type { ClusterConfig, NodeId } from '@synod/interfaces'
import { hostsAnything, type MetadataNode, type MetadataState } from './metadata.js'
import { planRebalance, type RebalancePlan, type RebalanceStep } from './rebalance-plan.js'
import { placeShards, type ShardPlacement } from './shard-map.js'

/**
 * The decisions behind online membership changes and rebalancing, as pure functions of the
 * metadata state and a group's configuration. Hosts act on them (see `shard-host.ts`); whoever
 * acts, a decision depends only on replicated state, so a new leader of any group takes over
 * where its predecessor stopped, and a step that already took effect is never taken twice.
 */

/** Progress of rebalancing as one node sees it (from its replica of the metadata group). */
export interface RebalanceStatus {
  /** True while the recorded placement differs from the target the members give, or a node is still draining. */
  active: boolean
  /** Shards whose move is under way. */
  moving: number
  /** Shards that still have to move, in later waves. */
  pending: number
  /** Moves finished since the cluster was created. */
  movesDone: number
  /** Nodes being drained: removal asked for, not yet complete. */
  draining: NodeId[]
}

/** The members that take part in placement: every node but the draining ones, in join order. */
export function activeNodes (state: MetadataState): MetadataNode[] {
  return state.nodes.filter((node) => !state.draining.includes(node.id))
}

let cachedKey = ''
let cachedPlacement: ShardPlacement[] = []

/**
 * The placement the active members give (`placeShards`: the ring's preference lists). Cached on
 * its inputs, since every host asks on every tick and the ring costs milliseconds to build.
 */
export function targetPlacement (state: MetadataState): ShardPlacement[] {
  const nodes = activeNodes(state).map((node) => ({ id: node.id, zone: node.zone, weight: node.weight }))
  const key = JSON.stringify([nodes, state.shardCount, state.replicationFactor])
  if (key !== cachedKey) {
    cachedPlacement = nodes.length === 0 ? [] : placeShards({ nodes, shardCount: state.shardCount, replicationFactor: state.replicationFactor })
    cachedKey = key
  }
  return cachedPlacement
}

/** The nodes a move copies to or takes from (a move that only changes the preferred leader involves none). */
function involvedIn (from: readonly NodeId[], to: readonly NodeId[]): NodeId[] {
  return [...to.filter((node) => !from.includes(node)), ...from.filter((node) => !to.includes(node))]
}

/**
 * The moves to release now: those of the plan from the recorded placement to the target (so only
 * the ring's diff moves) whose nodes have room under the throttle, counting the moves already under
 * way (no node takes part in more than `maxMovesPerNode` at once). A slot frees as soon as one move
 * finishes, so a slow move holds back only the moves that share its nodes. Moves off draining nodes
 * come first. Moves that only change the preferred leader copy nothing and are not throttled.
 */
export function nextWave (state: MetadataState, maxMovesPerNode: number): ShardPlacement[] {
  if (state.epoch === 0) return []
  const target = targetPlacement(state)
  if (target.length !== state.placement.length) return []
  const load = new Map<NodeId, number>()
  const moving = new Set<number>()
  for (const move of state.moves) {
    moving.add(move.shard)
    const before = state.placement[move.shard]?.replicas ?? []
    for (const node of involvedIn(before, [...move.replicas, ...(move.previous ?? [])])) load.set(node, (load.get(node) ?? 0) + 1)
  }
  // Replicas on draining nodes move first: those nodes are waiting to leave (or are gone).
  const draining = new Set(state.draining)
  const drains = (move: { from: NodeId[] }): number => move.from.some((node) => draining.has(node)) ? 0 : 1
  const ordered = [...planFor(state).moves].sort((a, b) => drains(a) - drains(b))
  const released: ShardPlacement[] = []
  for (const move of ordered) {
    if (moving.has(move.shard)) continue
    const involved = involvedIn(move.from, move.to)
    if (!involved.every((node) => (load.get(node) ?? 0) < maxMovesPerNode)) continue
    for (const node of involved) load.set(node, (load.get(node) ?? 0) + 1)
    released.push(target[move.shard] as ShardPlacement)
  }
  return released
}

// The metadata leader asks on every tick; states are replaced, never changed in place, so the last
// plan is reused until the state changes (planning 1,000 shards each tick would be waste).
let plannedState: MetadataState | undefined
let plannedResult: RebalancePlan | undefined

/** The moves from the state's recorded placement to its target. */
function planFor (state: MetadataState): RebalancePlan {
  if (plannedState !== state || plannedResult === undefined) {
    plannedResult = planRebalance(state.placement, targetPlacement(state))
    plannedState = state
  }
  return plannedResult
}

/**
 * Moves under way whose target names a node that is draining or gone (it was admitted, a move
 * toward it started, then it was removed, perhaps because it died): each with the target the
 * members give now. Such a move could not finish as released; it is pointed at the new target.
 */
export function staleMoves (state: MetadataState): ShardPlacement[] {
  const active = new Set(activeNodes(state).map((node) => node.id))
  const target = targetPlacement(state)
  const stale: ShardPlacement[] = []
  for (const move of state.moves) {
    const next = target[move.shard]
    if (next !== undefined && move.replicas.some((id) => !active.has(id))) stale.push(next)
  }
  return stale
}

export function rebalanceStatus (state: MetadataState | undefined): RebalanceStatus {
  if (state === undefined || state.epoch === 0) return { active: false, moving: 0, pending: 0, movesDone: 0, draining: [] }
  const target = targetPlacement(state)
  const moving = new Set(state.moves.map((move) => move.shard))
  const planned = target.length === state.placement.length ? planFor(state).moves : []
  const pending = planned.filter((move) => !moving.has(move.shard)).length
  return {
    active: moving.size > 0 || pending > 0 || state.draining.length > 0,
    moving: moving.size,
    pending,
    movesDone: state.movesDone,
    draining: [...state.draining]
  }
}

/** Whom a small group (the metadata group, the lock group) should have: its voters, and the rest of the members as learners. */
export interface GroupMembers {
  voters: NodeId[]
  /** Members that are not voters: learners, or voters on their way out that must stay until drained. */
  learners: NodeId[]
}

/**
 * The metadata and lock groups' members: voters are the first `voterCount` active nodes in join
 * order, every other active node is a learner (so every node holds the agreed state locally), and a
 * draining node stays until it hosts no shard replica any more.
 */
export function groupMembers (state: MetadataState, voterCount: number): GroupMembers {
  const active = activeNodes(state).map((node) => node.id)
  const voters = active.slice(0, voterCount)
  const draining = state.draining.filter((id) => hostsAnything(state, id))
  return { voters, learners: [...active.slice(voterCount), ...draining] }
}

/** One change toward a group's wanted members. `promote` waits for the learner to catch up first. */
export type GroupAction =
  | { kind: 'add-learner', node: NodeId }
  | { kind: 'promote', node: NodeId }
  | { kind: 'remove', node: NodeId }
  | { kind: 'transfer-leadership', to: NodeId }

/**
 * The next single-server change that brings a group's configuration (as its leader `self` holds
 * it) toward `wanted`, or undefined when there is none to make now. Order: add missing members as
 * learners, promote wanted voters, then remove members nobody wants, so the voter count never
 * drops before a replacement votes (a drained voter is removed only after a learner was promoted).
 * A voter that is merely not wanted as a voter (it still has replicas to give up) stays until it
 * is not wanted at all. The leader never removes itself: it hands leadership to a wanted voter first.
 */
export function nextGroupAction (config: ClusterConfig, wanted: GroupMembers, self: NodeId): GroupAction | undefined {
  if (config.outgoingVoters !== undefined && config.outgoingVoters.length > 0) return undefined
  const keep = new Set([...wanted.voters, ...wanted.learners])
  for (const node of [...wanted.voters, ...wanted.learners]) {
    if (!config.voters.includes(node) && !config.learners.includes(node)) return { kind: 'add-learner', node }
  }
  for (const node of wanted.voters) if (config.learners.includes(node)) return { kind: 'promote', node }
  for (const node of config.learners) if (!keep.has(node)) return { kind: 'remove', node }
  for (const node of config.voters) {
    if (keep.has(node)) continue
    if (node !== self) return { kind: 'remove', node }
    const heir = wanted.voters.find((candidate) => candidate !== self && config.voters.includes(candidate))
    if (heir !== undefined) return { kind: 'transfer-leadership', to: heir }
  }
  return undefined
}

/** What a shard's leader does next to bring its group to a move's target. */
export type ShardAction =
  | { kind: 'step', step: RebalanceStep }
  /** The voters are the target's: record the move as finished (after handing leadership to the preferred leader, when it is not `self`). */
  | { kind: 'finish', transferTo: NodeId | undefined }
  /** A joint configuration is still being left: look again later. */
  | { kind: 'wait' }

/**
 * The next step of a shard's move, from its leader's configuration: add one new replica as a
 * learner, catch it up and promote it (`await-catch-up` comes before `promote`: the host waits for
 * the learner, then promotes), then remove one old replica, one at a time (single-server changes,
 * so the group never has fewer voters than the target). A leader that must leave first hands
 * leadership to a staying voter. Stray learners (a move's learner whose target changed) are removed.
 */
export function nextShardAction (config: ClusterConfig, target: ShardPlacement, self: NodeId): ShardAction {
  if (config.outgoingVoters !== undefined && config.outgoingVoters.length > 0) return { kind: 'wait' }
  const shard = target.shard
  const gained = target.replicas.find((node) => !config.voters.includes(node))
  if (gained !== undefined) {
    if (!config.learners.includes(gained)) return { kind: 'step', step: { kind: 'add-learner', shard, node: gained } }
    return { kind: 'step', step: { kind: 'promote', shard, node: gained } }
  }
  const stray = config.learners.find((node) => !target.replicas.includes(node))
  if (stray !== undefined) return { kind: 'step', step: { kind: 'remove', shard, node: stray } }
  const lost = config.voters.find((node) => !target.replicas.includes(node))
  if (lost !== undefined) {
    if (lost !== self) return { kind: 'step', step: { kind: 'remove', shard, node: lost } }
    const heir = config.voters.includes(target.preferredLeader) ? target.preferredLeader : target.replicas.find((node) => config.voters.includes(node))
    if (heir === undefined) return { kind: 'wait' }
    return { kind: 'step', step: { kind: 'transfer-leadership', shard, to: heir } }
  }
  return { kind: 'finish', transferTo: target.preferredLeader === self ? undefined : target.preferredLeader }
}
