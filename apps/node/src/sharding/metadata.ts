import { Packr } from 'msgpackr'
import { BadFrameError, CorruptionError, type AppliedCommand, type StateMachine } from '@synod/interfaces'
import type { GroupId } from './group-mux.js'
import { placeShards, type ShardPlacement } from './shard-map.js'

/** The group id of the metadata group, which no shard uses (shards are numbered from 0). */
export const METADATA_GROUP: GroupId = -1

/** The group id of the lock group (the node's lock service), with the metadata group's members. */
export const LOCK_GROUP: GroupId = -2

/** A cluster member as the metadata group records it. */
export interface MetadataNode {
  id: string
  /** Its peer transport address (`ws://host:port`). */
  address: string
  zone?: string | undefined
  weight?: number | undefined
  /** Its HTTP API base URL, for clients that read the shard map. */
  apiUrl?: string | undefined
  /** Its WebSocket client API URL. */
  wsUrl?: string | undefined
}

/** A move under way: the shard's target placement, and who else may still be in its group. */
export interface ShardMove extends ShardPlacement {
  /**
   * Nodes of earlier targets of this move (it was retargeted) that may still be members of the
   * shard's group: they keep their replicas until the move finishes. @default none
   */
  previous?: string[]
}

/**
 * What every node agrees on through the metadata group: the members, the shard count and the
 * placement of every shard. `epoch` grows with every change, so a reader can tell which of two
 * views is newer and a writer can make a change conditional on the view it planned from.
 */
export interface MetadataState {
  epoch: number
  nodes: MetadataNode[]
  shardCount: number
  replicationFactor: number
  /** Every shard's recorded placement: the replicas that form its group once no move is under way. */
  placement: ShardPlacement[]
  /**
   * Moves under way: each entry is a shard's target placement, released by the metadata leader
   * (a wave at a time) and finished by the shard's leader once the group's voters are the target's.
   */
  moves: ShardMove[]
  /** Nodes being drained (`drain-node`), kept in `nodes` until they host nothing and are removed. */
  draining: string[]
  /** Moves finished since the cluster was created. */
  movesDone: number
}

/** Commands of the metadata state machine. `expectedEpoch`, when given, makes a change conditional. */
export type MetadataCommand =
  | { op: 'bootstrap', nodes: MetadataNode[], shardCount: number, replicationFactor: number }
  | { op: 'set-nodes', nodes: MetadataNode[], expectedEpoch?: number }
  | { op: 'set-shard-placement', placement: ShardPlacement, expectedEpoch?: number }
  /** Admits a node (appended: the node list is in join order), or updates its addresses; un-drains it. */
  | { op: 'add-node', node: MetadataNode }
  /** Starts draining a node: the target placement leaves it out. Refused if no other node would remain. */
  | { op: 'drain-node', id: string }
  /** Forgets a drained node; refused while any placement or move still names it. */
  | { op: 'remove-node', id: string }
  /** Releases moves (a wave): refused unless planned from `expectedEpoch` and no listed shard is moving. */
  | { op: 'start-moves', targets: ShardPlacement[], expectedEpoch: number }
  /**
   * Points a move under way at a new target (its old target named a node that is draining or gone);
   * the old target's nodes are kept in `previous` until the move finishes.
   */
  | { op: 'retarget-move', placement: ShardPlacement, expectedEpoch: number }
  /** Records a move as done: the shard's placement becomes its target. Refused unless that move is under way. */
  | { op: 'finish-move', placement: ShardPlacement }

export interface MetadataResult {
  ok: boolean
  epoch: number
}

const packr = new Packr({ useRecords: false })

export function encodeMetadataCommand (command: MetadataCommand): Uint8Array {
  return packr.pack(command)
}

/** The metadata state machine: deterministic, so every replica of the metadata group holds the same view. */
export interface MetadataStateMachine extends StateMachine<MetadataResult> {
  state(): MetadataState
}

const EMPTY: MetadataState = { epoch: 0, nodes: [], shardCount: 0, replicationFactor: 0, placement: [], moves: [], draining: [], movesDone: 0 }

/** Whether two placements of a shard are the same (replicas in the same order, same preferred leader). */
export function samePlacement (a: ShardPlacement | undefined, b: ShardPlacement | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.shard === b.shard && a.preferredLeader === b.preferredLeader && a.replicas.length === b.replicas.length &&
    a.replicas.every((node, i) => b.replicas[i] === node)
}

/** Nodes a shard's group may hold while `move` is under way: its target's and those of earlier targets. */
export function moveMembers (move: ShardMove): string[] {
  return [...move.replicas, ...(move.previous ?? [])]
}

/** Whether `id` is named by any shard's placement or move (target or earlier target). */
export function hostsAnything (state: MetadataState, id: string): boolean {
  return state.placement.some((p) => p.replicas.includes(id)) || state.moves.some((move) => moveMembers(move).includes(id))
}

function placementOnly (placement: ShardPlacement): ShardPlacement {
  return { shard: placement.shard, replicas: [...placement.replicas], preferredLeader: placement.preferredLeader }
}

function sameNode (a: MetadataNode, b: MetadataNode): boolean {
  return a.address === b.address && a.zone === b.zone && a.weight === b.weight && a.apiUrl === b.apiUrl && a.wsUrl === b.wsUrl
}

/** A node without undefined fields: msgpack would record them as nil, and snapshots must compare equal to logs. */
function cleanNode (node: MetadataNode): MetadataNode {
  const out: MetadataNode = { id: node.id, address: node.address }
  if (node.zone !== undefined) out.zone = node.zone
  if (node.weight !== undefined) out.weight = node.weight
  if (node.apiUrl !== undefined) out.apiUrl = node.apiUrl
  if (node.wsUrl !== undefined) out.wsUrl = node.wsUrl
  return out
}

export function createMetadataStateMachine (): MetadataStateMachine {
  let state: MetadataState = EMPTY

  function decode (data: Uint8Array): MetadataCommand {
    let value: unknown
    try {
      value = packr.unpack(data)
    } catch (error) {
      throw new BadFrameError('undecodable metadata command', { cause: error })
    }
    const command = value as Partial<MetadataCommand> | null
    if (typeof command !== 'object' || command === null || typeof command.op !== 'string') throw new BadFrameError('malformed metadata command')
    return command as MetadataCommand
  }

  return {
    apply (entry: AppliedCommand): MetadataResult {
      const command = decode(entry.data)
      const refused = { ok: false, epoch: state.epoch }
      switch (command.op) {
        case 'bootstrap':
          // Only the first bootstrap counts: every founding node may propose one, the log orders them.
          if (state.epoch !== 0) return refused
          state = {
            epoch: 1,
            nodes: command.nodes.map(cleanNode),
            shardCount: command.shardCount,
            replicationFactor: command.replicationFactor,
            placement: placeShards({ nodes: command.nodes, shardCount: command.shardCount, replicationFactor: command.replicationFactor }),
            moves: [],
            draining: [],
            movesDone: 0
          }
          return { ok: true, epoch: state.epoch }
        case 'set-nodes':
          if (state.epoch === 0 || (command.expectedEpoch !== undefined && command.expectedEpoch !== state.epoch)) return refused
          state = { ...state, epoch: state.epoch + 1, nodes: command.nodes }
          return { ok: true, epoch: state.epoch }
        case 'set-shard-placement': {
          const shard = command.placement.shard
          if (state.epoch === 0 || shard < 0 || shard >= state.shardCount) return refused
          if (command.expectedEpoch !== undefined && command.expectedEpoch !== state.epoch) return refused
          const placement = [...state.placement]
          placement[shard] = command.placement
          state = { ...state, epoch: state.epoch + 1, placement }
          return { ok: true, epoch: state.epoch }
        }
        case 'add-node': {
          if (state.epoch === 0 || typeof command.node?.id !== 'string' || typeof command.node.address !== 'string') return refused
          const node = cleanNode(command.node)
          const known = state.nodes.find((candidate) => candidate.id === node.id)
          const draining = state.draining.includes(node.id)
          // Idempotent: admitting a member again with the same addresses changes nothing.
          if (known !== undefined && sameNode(known, node) && !draining) return { ok: true, epoch: state.epoch }
          const nodes = known === undefined ? [...state.nodes, node] : state.nodes.map((candidate) => candidate.id === node.id ? node : candidate)
          state = { ...state, epoch: state.epoch + 1, nodes, draining: state.draining.filter((id) => id !== node.id) }
          return { ok: true, epoch: state.epoch }
        }
        case 'drain-node': {
          if (state.epoch === 0 || !state.nodes.some((node) => node.id === command.id)) return refused
          if (state.draining.includes(command.id)) return { ok: true, epoch: state.epoch }
          if (state.nodes.filter((node) => node.id !== command.id && !state.draining.includes(node.id)).length === 0) return refused
          state = { ...state, epoch: state.epoch + 1, draining: [...state.draining, command.id] }
          return { ok: true, epoch: state.epoch }
        }
        case 'remove-node': {
          if (state.epoch === 0 || !state.draining.includes(command.id) || hostsAnything(state, command.id)) return refused
          state = {
            ...state,
            epoch: state.epoch + 1,
            nodes: state.nodes.filter((node) => node.id !== command.id),
            draining: state.draining.filter((id) => id !== command.id)
          }
          return { ok: true, epoch: state.epoch }
        }
        case 'start-moves': {
          if (state.epoch === 0 || command.expectedEpoch !== state.epoch || !Array.isArray(command.targets) || command.targets.length === 0) return refused
          const shards = new Set<number>()
          for (const target of command.targets) {
            if (target.shard < 0 || target.shard >= state.shardCount || shards.has(target.shard)) return refused
            if (state.moves.some((move) => move.shard === target.shard)) return refused
            shards.add(target.shard)
          }
          state = { ...state, epoch: state.epoch + 1, moves: [...state.moves, ...command.targets.map(placementOnly)] }
          return { ok: true, epoch: state.epoch }
        }
        case 'retarget-move': {
          const move = state.moves.find((candidate) => candidate.shard === command.placement?.shard)
          if (state.epoch === 0 || command.expectedEpoch !== state.epoch || move === undefined || samePlacement(move, command.placement)) return refused
          const target = placementOnly(command.placement)
          const previous = [...new Set(moveMembers(move))].filter((id) => !target.replicas.includes(id))
          const retargeted: ShardMove = previous.length > 0 ? { ...target, previous } : target
          state = { ...state, epoch: state.epoch + 1, moves: state.moves.map((candidate) => candidate === move ? retargeted : candidate) }
          return { ok: true, epoch: state.epoch }
        }
        case 'finish-move': {
          const move = state.moves.find((candidate) => candidate.shard === command.placement?.shard)
          if (state.epoch === 0 || move === undefined || !samePlacement(move, command.placement)) return refused
          const placement = [...state.placement]
          placement[move.shard] = placementOnly(move)
          state = {
            ...state,
            epoch: state.epoch + 1,
            placement,
            moves: state.moves.filter((candidate) => candidate !== move),
            movesDone: state.movesDone + 1
          }
          return { ok: true, epoch: state.epoch }
        }
        default:
          throw new BadFrameError(`unknown metadata command ${String((command as { op: unknown }).op)}`)
      }
    },

    async * snapshot () {
      yield packr.pack(state)
    },

    async restore (chunks) {
      const parts: Uint8Array[] = []
      for await (const chunk of chunks) parts.push(chunk)
      const restored = packr.unpack(Buffer.concat(parts)) as MetadataState | undefined
      if (typeof restored !== 'object' || restored === null || typeof restored.epoch !== 'number' || !Array.isArray(restored.placement)) {
        throw new CorruptionError('malformed metadata snapshot')
      }
      // Snapshots taken before moves and draining existed lack those fields.
      state = { ...restored, moves: restored.moves ?? [], draining: restored.draining ?? [], movesDone: restored.movesDone ?? 0 }
    },

    state: () => state
  }
}
