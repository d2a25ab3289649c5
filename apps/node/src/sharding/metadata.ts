import { Packr } from 'msgpackr'
import { BadFrameError, CorruptionError, type AppliedCommand, type StateMachine } from '@synod/interfaces'
import type { GroupId } from './group-mux.js'
import { placeShards, type ShardPlacement } from './shard-map.js'

/** The group id of the metadata group, which no shard uses (shards are numbered from 0). */
export const METADATA_GROUP: GroupId = -1

/** A cluster member as the metadata group records it. */
export interface MetadataNode {
  id: string
  address: string
  zone?: string | undefined
  weight?: number | undefined
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
  placement: ShardPlacement[]
}

/** Commands of the metadata state machine. `expectedEpoch`, when given, makes a change conditional. */
export type MetadataCommand =
  | { op: 'bootstrap', nodes: MetadataNode[], shardCount: number, replicationFactor: number }
  | { op: 'set-nodes', nodes: MetadataNode[], expectedEpoch?: number }
  | { op: 'set-shard-placement', placement: ShardPlacement, expectedEpoch?: number }

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

const EMPTY: MetadataState = { epoch: 0, nodes: [], shardCount: 0, replicationFactor: 0, placement: [] }

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
            nodes: command.nodes,
            shardCount: command.shardCount,
            replicationFactor: command.replicationFactor,
            placement: placeShards({ nodes: command.nodes, shardCount: command.shardCount, replicationFactor: command.replicationFactor })
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
      state = restored
    },

    state: () => state
  }
}
