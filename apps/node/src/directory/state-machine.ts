import { Packr } from 'msgpackr'
import { BadFrameError, CorruptionError, type AppliedCommand, type NodeId, type StateMachine } from '@synod/interfaces'

/** Where clients reach a member: its HTTP/JSON API and its WebSocket client API. */
export interface MemberUrls {
  apiUrl?: string | undefined
  wsUrl?: string | undefined
}

/** Commands of the member directory. */
export type DirectoryCommand =
  | { op: 'set', id: NodeId, apiUrl?: string, wsUrl?: string }
  | { op: 'delete', id: NodeId }

/**
 * The member directory: each member's client URLs, replicated through the log beside the KV store
 * and the locks. The consensus configuration knows only peer addresses; a member added at runtime
 * with `apiUrl`/`wsUrl` is recorded here, so every node can name it in leader hints and list it on
 * the dashboard, not only the node that served the change.
 */
export interface DirectoryStateMachine extends StateMachine<boolean> {
  get(id: NodeId): MemberUrls | undefined
  entries(): Array<[NodeId, MemberUrls]>
}

const packr = new Packr({ useRecords: false })

export function encodeDirectoryCommand (command: DirectoryCommand): Uint8Array {
  return packr.pack(command)
}

/** `onChange` hears every set and delete as it is applied (and the whole directory after a restore). */
export function createDirectoryStateMachine (onChange?: (id: NodeId, urls: MemberUrls | undefined) => void): DirectoryStateMachine {
  let members = new Map<NodeId, MemberUrls>()

  function decode (data: Uint8Array): DirectoryCommand {
    let value: unknown
    try {
      value = packr.unpack(data)
    } catch (error) {
      throw new BadFrameError('undecodable directory command', { cause: error })
    }
    const command = value as Partial<DirectoryCommand> | null
    if (typeof command !== 'object' || command === null || typeof command.id !== 'string' || (command.op !== 'set' && command.op !== 'delete')) {
      throw new BadFrameError('malformed directory command')
    }
    return command as DirectoryCommand
  }

  return {
    apply (entry: AppliedCommand): boolean {
      const command = decode(entry.data)
      if (command.op === 'delete') {
        const had = members.delete(command.id)
        onChange?.(command.id, undefined)
        return had
      }
      const urls: MemberUrls = {
        ...(typeof command.apiUrl === 'string' ? { apiUrl: command.apiUrl } : {}),
        ...(typeof command.wsUrl === 'string' ? { wsUrl: command.wsUrl } : {})
      }
      members.set(command.id, urls)
      onChange?.(command.id, urls)
      return true
    },

    async * snapshot () {
      yield packr.pack([...members])
    },

    async restore (chunks) {
      const parts: Uint8Array[] = []
      for await (const chunk of chunks) parts.push(chunk)
      // A snapshot from before the directory existed has no frames for it: an empty directory.
      const restored = parts.length === 0 ? [] : packr.unpack(Buffer.concat(parts)) as unknown
      if (!Array.isArray(restored)) throw new CorruptionError('malformed directory snapshot')
      const next = new Map<NodeId, MemberUrls>()
      for (const item of restored) {
        if (!Array.isArray(item) || typeof item[0] !== 'string' || typeof item[1] !== 'object' || item[1] === null) throw new CorruptionError('malformed directory snapshot entry')
        next.set(item[0], item[1] as MemberUrls)
      }
      for (const id of members.keys()) if (!next.has(id)) onChange?.(id, undefined)
      members = next
      for (const [id, urls] of members) onChange?.(id, urls)
    },

    get: (id) => members.get(id),
    entries: () => [...members]
  }
}
