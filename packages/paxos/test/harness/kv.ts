import type { AppliedCommand, StateMachine } from '@synod/interfaces'

/** Commands of the test key-value store. */
export type KvCommand =
  | { op: 'put', key: string, value: string }
  | { op: 'get', key: string }
  | { op: 'cas', key: string, expected: string | null, value: string }
  | { op: 'del', key: string }

export type KvResult = { ok: boolean, value: string | null }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const encodeKv = (command: KvCommand): Uint8Array => encoder.encode(JSON.stringify(command))

/** A deterministic in-memory key-value state machine (not durable: restarts replay from a snapshot). */
export class KvStateMachine implements StateMachine<KvResult> {
  readonly data = new Map<string, string>()
  readonly applied: number[] = []

  apply (command: AppliedCommand): KvResult {
    this.applied.push(command.index)
    const c = JSON.parse(decoder.decode(command.data)) as KvCommand
    const current = this.data.get(c.key) ?? null
    switch (c.op) {
      case 'put': this.data.set(c.key, c.value); return { ok: true, value: c.value }
      case 'get': return { ok: true, value: current }
      case 'cas':
        if (current !== c.expected) return { ok: false, value: current }
        this.data.set(c.key, c.value)
        return { ok: true, value: c.value }
      case 'del': this.data.delete(c.key); return { ok: true, value: current }
    }
  }

  get (key: string): string | null {
    return this.data.get(key) ?? null
  }

  async * snapshot (): AsyncIterable<Uint8Array> {
    // Small chunks, so snapshot transfers exercise the chunked path.
    const bytes = encoder.encode(JSON.stringify([...this.data]))
    for (let offset = 0; offset < bytes.byteLength; offset += 64) yield bytes.slice(offset, offset + 64)
  }

  async restore (chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = []
    for await (const chunk of chunks) parts.push(chunk)
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
    let offset = 0
    for (const part of parts) { all.set(part, offset); offset += part.byteLength }
    this.data.clear()
    const text = decoder.decode(all)
    if (text.length > 0) for (const [k, v] of JSON.parse(text) as Array<[string, string]>) this.data.set(k, v)
  }
}
