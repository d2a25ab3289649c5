/**
 * Compliance suite for {@link StateStore}: the memory store, the LMDB store and any other
 * implementation run it.
 *
 * @example
 * ```ts
 * import { stateStoreSuite } from '@synod/compliance/state-store'
 * stateStoreSuite({ setup: async () => createMyStore(), teardown: async (store) => { await store.stop() } })
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StateStore } from '@synod/interfaces'
import { withCapabilities, type TestSetup } from './index.js'

/** Optional StateStore behaviours. */
export interface StateStoreCapabilities {
  /**
   * Stopping and starting the same instance keeps the data and applied index.
   * @default true
   */
  restart: boolean
  /**
   * `importSnapshot` verifies its input and rejects a damaged export with ERR_CORRUPT, leaving
   * the store unchanged.
   * @default true
   */
  verifiesImports: boolean
}

const text = new TextEncoder()
const bytes = (value: string): Uint8Array => text.encode(value)
const str = (value: Uint8Array | undefined): string | undefined => value === undefined ? undefined : new TextDecoder().decode(value)

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const result: Uint8Array[] = []
  for await (const chunk of chunks) result.push(new Uint8Array(chunk))
  return result
}

async function * replay (chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk
}

/** Registers the StateStore compliance tests. */
export function stateStoreSuite (setup: TestSetup<StateStore, StateStoreCapabilities>): void {
  const caps = withCapabilities(setup.capabilities, { restart: true, verifiesImports: true })

  describe('StateStore compliance', () => {
    let store: StateStore
    const extra: StateStore[] = []

    beforeEach(async () => {
      store = await setup.setup()
      await store.start()
    })

    afterEach(async () => {
      await setup.teardown(store)
      for (const other of extra.splice(0)) await setup.teardown(other)
    })

    async function another (): Promise<StateStore> {
      const other = await setup.setup()
      extra.push(other)
      await other.start()
      return other
    }

    function dump (target: StateStore): Record<string, string | undefined> {
      return Object.fromEntries(target.range({}).map(([key, value]) => [key, str(value)]))
    }

    it('starts empty at applied index 0', () => {
      expect(store.get('a')).toBeUndefined()
      expect(store.range({})).toEqual([])
      expect(store.appliedIndex()).toBe(0)
    })

    it('applies puts and deletes together with the applied index', async () => {
      await store.write({ puts: [['a', bytes('1')], ['b', bytes('2')]] }, 5)
      expect(str(store.get('a'))).toBe('1')
      expect(store.appliedIndex()).toBe(5)
      await store.write({ puts: [['c', bytes('3')]], deletes: ['a', 'missing'] }, 6)
      expect(dump(store)).toEqual({ b: '2', c: '3' })
      expect(store.appliedIndex()).toBe(6)
    })

    it('shows a batch to synchronous reads before its write resolves', async () => {
      const pending = store.write({ puts: [['k', bytes('v')]] }, 1)
      expect(str(store.get('k'))).toBe('v')
      expect(store.range({ prefix: 'k' }).map(([key]) => key)).toEqual(['k'])
      expect(store.appliedIndex()).toBe(1)
      const deleting = store.write({ deletes: ['k'] }, 2)
      expect(store.get('k')).toBeUndefined()
      expect(store.range({})).toEqual([])
      await Promise.all([pending, deleting])
      expect(store.get('k')).toBeUndefined()
    })

    it('applies concurrent writes in call order', async () => {
      await Promise.all(Array.from({ length: 30 }, async (_, i) => { await store.write({ puts: [['x', bytes(String(i))], [`k${i}`, bytes('y')]] }, i + 1) }))
      expect(str(store.get('x'))).toBe('29')
      expect(store.appliedIndex()).toBe(30)
      expect(store.range({ prefix: 'k' })).toHaveLength(30)
    })

    it('answers range queries by prefix, bounds and limit, ordered by UTF-16 code units', async () => {
      const keys = ['user/2', 'user/10', 'user/1', 'users', 'a', 'user/\uE000', 'user/\u{1F600}', 'z']
      await store.write({ puts: keys.map((key) => [key, bytes(key)]) }, 1)
      expect(store.range({ prefix: 'user/' }).map(([key]) => key)).toEqual(['user/1', 'user/10', 'user/2', 'user/\u{1F600}', 'user/\uE000'])
      expect(store.range({ start: 'user/10', end: 'user/\u{1F600}' }).map(([key]) => key)).toEqual(['user/10', 'user/2'])
      expect(store.range({ prefix: 'user/', limit: 2 }).map(([key]) => key)).toEqual(['user/1', 'user/10'])
      expect(store.range({ start: 'user/2' }).map(([key]) => key)).toEqual(['user/2', 'user/\u{1F600}', 'user/\uE000', 'users', 'z'])
      expect(store.range({ prefix: 'user/', start: 'user/2', limit: 1 }).map(([key, value]) => [key, str(value)])).toEqual([['user/2', 'user/2']])
      expect(store.range({ prefix: 'nothing' })).toEqual([])
    })

    it('keeps the empty key and binary values exactly', async () => {
      const binary = new Uint8Array(256).map((_, i) => i)
      await store.write({ puts: [['', binary], ['empty', new Uint8Array(0)]] }, 1)
      expect(Array.from(store.get('') ?? [])).toEqual(Array.from(binary))
      expect(store.get('empty')).toEqual(new Uint8Array(0))
    })

    it('does not alias values on the way in or out', async () => {
      const value = bytes('abc')
      await store.write({ puts: [['k', value]] }, 1)
      value[0] = 0x7a
      const read = store.get('k') as Uint8Array
      expect(str(read)).toBe('abc')
      read[0] = 0x7a
      expect(str(store.get('k'))).toBe('abc')
    })

    it('exports and imports the whole store, replacing what the target held', async () => {
      const puts = Array.from({ length: 500 }, (_, i) => [`key-${String(i).padStart(4, '0')}`, bytes(`value ${i}`.repeat(20))] as const)
      await store.write({ puts }, 42)
      const chunks = await collect(store.exportSnapshot())
      const target = await another()
      await target.write({ puts: [['stale', bytes('old')]] }, 3)
      await target.importSnapshot(replay(chunks), 42)
      expect(target.appliedIndex()).toBe(42)
      expect(target.get('stale')).toBeUndefined()
      expect(dump(target)).toEqual(dump(store))
      await target.write({ puts: [['after', bytes('import')]] }, 43)
      expect(str(target.get('after'))).toBe('import')
    })

    it('exports a consistent state even when written to during the export', async () => {
      const puts = Array.from({ length: 2000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, bytes('x'.repeat(100))] as const)
      await store.write({ puts }, 10)
      const iterator = store.exportSnapshot()[Symbol.asyncIterator]()
      const first = await iterator.next()
      await store.write({ puts: [['k99999', bytes('late')]], deletes: ['k00000', 'k01999'] }, 11)
      const chunks = first.done === true ? [] : [new Uint8Array(first.value)]
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) chunks.push(new Uint8Array(next.value))
      const target = await another()
      await target.importSnapshot(replay(chunks), 10)
      expect(target.get('k99999')).toBeUndefined()
      expect(str(target.get('k00000'))).toBe('x'.repeat(100))
      expect(str(target.get('k01999'))).toBe('x'.repeat(100))
      expect(target.range({})).toHaveLength(2000)
    })

    it.runIf(caps.verifiesImports)('rejects a damaged or truncated export with ERR_CORRUPT and keeps its state', async () => {
      await store.write({ puts: [['a', bytes('1')], ['b', bytes('2')]] }, 7)
      const chunks = await collect(store.exportSnapshot())
      const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0))
      let at = 0
      for (const chunk of chunks) { whole.set(chunk, at); at += chunk.byteLength }
      const target = await another()
      await target.write({ puts: [['mine', bytes('keep')]] }, 2)
      const damaged = new Uint8Array(whole)
      const middle = Math.floor(damaged.length / 2)
      damaged[middle] = (damaged[middle] as number) ^ 0xff
      await expect(target.importSnapshot(replay([damaged]), 7)).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
      await expect(target.importSnapshot(replay([whole.subarray(0, whole.length - 5)]), 7)).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
      expect(dump(target)).toEqual({ mine: 'keep' })
      expect(target.appliedIndex()).toBe(2)
    })

    it('rejects with ERR_ABORTED when the signal has already fired, changing nothing', async () => {
      await store.write({ puts: [['a', bytes('1')]] }, 1)
      const signal = AbortSignal.abort()
      await expect(store.write({ puts: [['b', bytes('2')]] }, 2, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      const chunks = await collect(store.exportSnapshot())
      await expect(store.importSnapshot(replay(chunks), 9, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(collect(store.exportSnapshot({ signal }))).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(dump(store)).toEqual({ a: '1' })
      expect(store.appliedIndex()).toBe(1)
    })

    it('abandons an import aborted midway, keeping the previous state', async () => {
      const source = await another()
      await source.write({ puts: Array.from({ length: 300 }, (_, i) => [`n${i}`, bytes('v'.repeat(500))] as const) }, 9)
      const chunks = await collect(source.exportSnapshot())
      await store.write({ puts: [['mine', bytes('keep')]] }, 2)
      const controller = new AbortController()
      async function * abortingMidway (): AsyncGenerator<Uint8Array> {
        for (const [i, chunk] of chunks.entries()) {
          if (i === Math.floor(chunks.length / 2)) controller.abort()
          yield chunk
        }
      }
      await expect(store.importSnapshot(abortingMidway(), 9, { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(dump(store)).toEqual({ mine: 'keep' })
      expect(store.appliedIndex()).toBe(2)
    })

    it.runIf(caps.restart)('keeps data and applied index across a restart', async () => {
      await store.write({ puts: [['a', bytes('1')], ['b', bytes('2')]] }, 3)
      await store.write({ deletes: ['a'] }, 4)
      await store.stop()
      await store.start()
      expect(dump(store)).toEqual({ b: '2' })
      expect(store.appliedIndex()).toBe(4)
    })

    it.runIf(caps.restart)('keeps an imported state across a restart', async () => {
      const source = await another()
      await source.write({ puts: [['s', bytes('snap')]] }, 20)
      await store.write({ puts: [['old', bytes('x')]] }, 1)
      await store.importSnapshot(replay(await collect(source.exportSnapshot())), 20)
      await store.stop()
      await store.start()
      expect(dump(store)).toEqual({ s: 'snap' })
      expect(store.appliedIndex()).toBe(20)
    })

    it('rejects writes after stop with ERR_NOT_STARTED', async () => {
      await store.stop()
      await store.stop()
      await expect(store.write({ puts: [['a', bytes('1')]] }, 1)).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
      await store.start()
      await store.start()
      await store.write({ puts: [['a', bytes('1')]] }, 1)
      expect(str(store.get('a'))).toBe('1')
    })
  })
}
