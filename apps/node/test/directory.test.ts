import { describe, expect, it } from 'vitest'
import { createDirectoryStateMachine, encodeDirectoryCommand, type MemberUrls } from '../src/directory/state-machine.js'

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const chunk of chunks) out.push(chunk)
  return out
}

describe('member directory state machine', () => {
  it('records, replaces and deletes members\' client URLs, telling the node of each change', () => {
    const seen: Array<[string, MemberUrls | undefined]> = []
    const directory = createDirectoryStateMachine((id, urls) => { seen.push([id, urls]) })
    directory.apply({ index: 1, term: 1, data: encodeDirectoryCommand({ op: 'set', id: 'n4', apiUrl: 'http://h4:7001' }) })
    directory.apply({ index: 2, term: 1, data: encodeDirectoryCommand({ op: 'set', id: 'n4', apiUrl: 'http://h4:7001', wsUrl: 'ws://h4:7021' }) })
    directory.apply({ index: 3, term: 1, data: encodeDirectoryCommand({ op: 'set', id: 'n5', wsUrl: 'ws://h5:7021' }) })
    expect(directory.get('n4')).toEqual({ apiUrl: 'http://h4:7001', wsUrl: 'ws://h4:7021' })
    expect(directory.apply({ index: 4, term: 1, data: encodeDirectoryCommand({ op: 'delete', id: 'n5' }) })).toBe(true)
    expect(directory.apply({ index: 5, term: 1, data: encodeDirectoryCommand({ op: 'delete', id: 'n9' }) })).toBe(false)
    expect(directory.entries().map(([id]) => id)).toEqual(['n4'])
    expect(seen.map(([id, urls]) => `${id}:${urls === undefined ? '-' : Object.keys(urls).join('+')}`)).toEqual(['n4:apiUrl', 'n4:apiUrl+wsUrl', 'n5:wsUrl', 'n5:-', 'n9:-'])
  })

  it('restores from its snapshot, and from a snapshot taken before it existed (empty)', async () => {
    const source = createDirectoryStateMachine()
    source.apply({ index: 1, term: 1, data: encodeDirectoryCommand({ op: 'set', id: 'n4', apiUrl: 'http://h4:7001' }) })
    const chunks = await collect(source.snapshot())
    const changes: string[] = []
    const target = createDirectoryStateMachine((id, urls) => { changes.push(`${id}:${urls?.apiUrl ?? '-'}`) })
    target.apply({ index: 1, term: 1, data: encodeDirectoryCommand({ op: 'set', id: 'old', apiUrl: 'http://old:1' }) })
    const meta = { index: 1, term: 1, config: { voters: [], learners: [], addresses: {} }, size: 0, checksum: '' }
    await target.restore((async function * () { yield * chunks })(), meta)
    expect(target.entries()).toEqual([['n4', { apiUrl: 'http://h4:7001' }]])
    expect(changes).toEqual(['old:http://old:1', 'old:-', 'n4:http://h4:7001'])
    await target.restore((async function * () {})(), meta)
    expect(target.entries()).toEqual([])
  })

  it('refuses a malformed command or snapshot with a typed error', async () => {
    const directory = createDirectoryStateMachine()
    expect(() => directory.apply({ index: 1, term: 1, data: new Uint8Array([0xc1]) })).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    expect(() => directory.apply({ index: 1, term: 1, data: encodeDirectoryCommand({ op: 'set' } as never) })).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    const meta = { index: 1, term: 1, config: { voters: [], learners: [], addresses: {} }, size: 0, checksum: '' }
    await expect(directory.restore((async function * () { yield encodeDirectoryCommand({ op: 'delete', id: 'x' }) })(), meta)).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })
})
