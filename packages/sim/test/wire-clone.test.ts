import { describe, expect, it } from 'vitest'
import { wireClone } from '../src/network/wire-clone.js'

describe('wireClone', () => {
  it('copies a typed-array view as just its bytes, in a buffer of its own', () => {
    const arena = new Uint8Array(1 << 16)
    arena.set([1, 2, 3, 4, 5], 100)
    const view = arena.subarray(101, 104)
    const copy = wireClone({ entries: [{ index: 1, data: view }] })
    const data = copy.entries[0]?.data as Uint8Array
    expect([...data]).toEqual([2, 3, 4])
    expect(data.byteOffset).toBe(0)
    expect(data.buffer.byteLength).toBe(3)
    arena[102] = 99
    expect(data[1]).toBe(3)
  })

  it('copies objects, arrays, maps and sets deeply, so sender and receiver share nothing', () => {
    const message = { to: 'n2', list: [{ a: 1 }], map: new Map([['k', { v: 1 }]]), set: new Set([1, 2]), none: undefined, at: new Date(5) }
    const copy = wireClone(message)
    expect(copy).toEqual(message)
    expect(copy.list[0]).not.toBe(message.list[0])
    expect(copy.map.get('k')).not.toBe(message.map.get('k'))
    expect(copy.set).not.toBe(message.set)
    expect(copy.at).not.toBe(message.at)
    expect('none' in copy).toBe(true)
  })

  it('fails loudly on what a wire cannot carry', () => {
    expect(() => wireClone({ fn: () => 1 })).toThrow()
  })
})
