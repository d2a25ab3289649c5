import { BadFrameError, CorruptionError, type AbortOptions, type AppliedCommand, type StateMachine } from '@synod/interfaces'

/**
 * Several state machines on one log: each command's first byte names the machine it belongs to.
 * The node runs the KV store and the lock service side by side this way, so both share one
 * order of commits and one snapshot.
 */
export function createMuxStateMachine (parts: ReadonlyMap<number, StateMachine<unknown>>): StateMachine<unknown> {
  const tags = [...parts.keys()].sort((a, b) => a - b)
  for (const tag of tags) if (!Number.isInteger(tag) || tag < 0 || tag > 255) throw new RangeError(`tag ${tag} is not a byte`)

  return {
    apply (command: AppliedCommand): unknown {
      const tag = command.data[0]
      const part = tag === undefined ? undefined : parts.get(tag)
      if (part === undefined) throw new BadFrameError(`command at index ${command.index} has unknown machine tag ${String(tag)}`)
      return part.apply({ index: command.index, term: command.term, data: command.data.subarray(1) })
    },

    // Frames: [tag u8][length u32 BE][bytes]; a part's snapshot is a sequence of its frames.
    async * snapshot (options?: AbortOptions) {
      for (const tag of tags) {
        for await (const chunk of (parts.get(tag) as StateMachine<unknown>).snapshot(options)) {
          const header = new Uint8Array(5)
          header[0] = tag
          new DataView(header.buffer).setUint32(1, chunk.byteLength)
          yield header
          yield chunk
        }
      }
    },

    async restore (chunks, meta, options) {
      const perPart = new Map<number, Uint8Array[]>(tags.map((tag) => [tag, []]))
      let buffered: Uint8Array = new Uint8Array(0)
      for await (const chunk of chunks) {
        buffered = concat(buffered, chunk)
        let offset = 0
        while (buffered.byteLength - offset >= 5) {
          const tag = buffered[offset] as number
          const length = new DataView(buffered.buffer, buffered.byteOffset + offset + 1, 4).getUint32(0)
          if (buffered.byteLength - offset - 5 < length) break
          const target = perPart.get(tag)
          if (target === undefined) throw new CorruptionError(`snapshot holds a frame for unknown machine tag ${tag}`)
          target.push(buffered.slice(offset + 5, offset + 5 + length))
          offset += 5 + length
        }
        buffered = buffered.slice(offset)
      }
      if (buffered.byteLength !== 0) throw new CorruptionError(`snapshot ends inside a frame (${buffered.byteLength} bytes left over)`)
      for (const tag of tags) {
        const frames = perPart.get(tag) ?? []
        await (parts.get(tag) as StateMachine<unknown>).restore((async function * () { yield * frames })(), meta, options)
      }
    }
  }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}
