import { describe, expect, it } from 'vitest'
import { encodeCommand, decodeCommand, type KvCommand } from '../src/kv/commands.js'
import { createKvStateMachine, type KvStateMachine } from '../src/kv/state-machine.js'

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const str = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

function applyAll (machine: KvStateMachine, commands: KvCommand[], firstIndex = 1): Array<ReturnType<KvStateMachine['apply']>> {
  return commands.map((command, i) => machine.apply({ index: firstIndex + i, term: 1, data: encodeCommand(command) }))
}

describe('kv state machine', () => {
  it('puts, reads, deletes with revisions equal to log indices', () => {
    const kv = createKvStateMachine()
    const results = applyAll(kv, [
      { op: 'put', key: 'a', value: text('1') },
      { op: 'put', key: 'a', value: text('2') },
      { op: 'put', key: 'b', value: text('x') },
      { op: 'del', key: 'b' },
      { op: 'del', key: 'missing' }
    ])
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false])
    expect(str(results[1]?.previous)).toBe('1')
    expect(kv.get('a')).toMatchObject({ createRevision: 1, modRevision: 2, version: 2 })
    expect(str(kv.get('a')?.value)).toBe('2')
    expect(kv.get('b')).toBeUndefined()
    expect(kv.revision()).toBe(4)
  })

  it('compare-and-swap on value and on revision', () => {
    const kv = createKvStateMachine()
    const [created, wrongValue, swapped, wrongRevision, byRevision, absentOnly] = applyAll(kv, [
      { op: 'cas', key: 'k', value: text('v1'), expectedValue: null },
      { op: 'cas', key: 'k', value: text('v2'), expectedValue: text('nope') },
      { op: 'cas', key: 'k', value: text('v2'), expectedValue: text('v1') },
      { op: 'cas', key: 'k', value: text('v3'), expectedRevision: 1 },
      { op: 'cas', key: 'k', value: text('v3'), expectedRevision: 3 },
      { op: 'cas', key: 'k', value: text('v4'), expectedRevision: 0 }
    ])
    expect([created?.ok, wrongValue?.ok, swapped?.ok, wrongRevision?.ok, byRevision?.ok, absentOnly?.ok])
      .toEqual([true, false, true, false, true, false])
    expect(str(kv.get('k')?.value)).toBe('v3')
  })

  it('applies a retried client write once and returns the first result', () => {
    const kv = createKvStateMachine()
    const [first, retry, nextWrite] = applyAll(kv, [
      { op: 'put', key: 'n', value: text('1'), client: 'c1', seq: 1 },
      { op: 'put', key: 'n', value: text('1'), client: 'c1', seq: 1 },
      { op: 'put', key: 'n', value: text('2'), client: 'c1', seq: 2 }
    ])
    expect(retry).toEqual(first)
    expect(kv.get('n')?.version).toBe(2)
    expect(nextWrite?.revision).toBe(3)
  })

  it('ranges by prefix and bounds in key order with a limit', () => {
    const kv = createKvStateMachine()
    applyAll(kv, ['b/2', 'a/1', 'b/1', 'b/3', 'c'].map((key) => ({ op: 'put' as const, key, value: text(key) })))
    expect(kv.range({ prefix: 'b/' }).map(([key]) => key)).toEqual(['b/1', 'b/2', 'b/3'])
    expect(kv.range({ start: 'a', end: 'b/3', limit: 3 }).map(([key]) => key)).toEqual(['a/1', 'b/1', 'b/2'])
  })

  it('restores a snapshot exactly, whatever the chunking of the transfer', async () => {
    const source = createKvStateMachine()
    applyAll(source, Array.from({ length: 1500 }, (_, i) => ({ op: 'put' as const, key: `key-${i}`, value: text(`value-${i}`), client: `c${i % 7}`, seq: i })))
    const chunks: Uint8Array[] = []
    for await (const chunk of source.snapshot()) chunks.push(chunk)
    const whole = Buffer.concat(chunks)
    async function * rechunked (): AsyncIterable<Uint8Array> {
      for (let offset = 0; offset < whole.byteLength; offset += 777) yield whole.subarray(offset, offset + 777)
    }
    const target = createKvStateMachine()
    await target.restore(rechunked(), { index: 1500, term: 1 })
    expect(target.size()).toBe(1500)
    expect(target.revision()).toBe(source.revision())
    expect(str(target.get('key-1499')?.value)).toBe('value-1499')
    // Deduplication state travels with the snapshot.
    const retry = target.apply({ index: 1501, term: 1, data: encodeCommand({ op: 'put', key: 'key-0', value: text('changed'), client: 'c0', seq: 0 }) })
    expect(retry.ok).toBe(true)
    expect(str(target.get('key-0')?.value)).toBe('value-0')
  })

  it('rejects a truncated snapshot with ERR_CORRUPT', async () => {
    const source = createKvStateMachine()
    applyAll(source, Array.from({ length: 1200 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: text('v') })))
    const chunks: Uint8Array[] = []
    for await (const chunk of source.snapshot()) chunks.push(chunk)
    async function * missingLast (): AsyncIterable<Uint8Array> { yield * chunks.slice(0, -1) }
    await expect(createKvStateMachine().restore(missingLast(), { index: 1, term: 1 })).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('refuses malformed commands with ERR_BAD_FRAME', () => {
    expect(() => decodeCommand(new Uint8Array([0xc1]))).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    expect(() => decodeCommand(encodeCommand({ op: 'nope', key: 'x' } as unknown as KvCommand))).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
  })
})
