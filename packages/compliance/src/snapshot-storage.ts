/**
 * Compliance suite for {@link SnapshotStorage}: the memory and file stores, and the simulator's
 * disk, run it.
 *
 * @example
 * ```ts
 * import { snapshotStorageSuite } from '@synod/compliance/snapshot-storage'
 * snapshotStorageSuite({ setup: async () => createMyStore(), teardown: async (store) => { await store.stop() } })
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClusterConfig, SnapshotStorage } from '@synod/interfaces'
import { withCapabilities, type TestSetup } from './index.js'

/** Optional SnapshotStorage behaviours. */
export interface SnapshotStorageCapabilities {
  /**
   * Stopping and starting the same instance keeps installed snapshots, and an interrupted write
   * can be resumed after the restart.
   * @default true
   */
  restart: boolean
}

const config: ClusterConfig = { voters: ['n1', 'n2', 'n3'], learners: [], addresses: { n1: 'a:1', n2: 'a:2', n3: 'a:3' } }

function pattern (size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (Math.imul(i + 1, 2654435761) + seed) >>> 24
  return data
}

async function readAll (chunks: AsyncIterable<Uint8Array>): Promise<{ data: Uint8Array, sizes: number[] }> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(new Uint8Array(chunk))
  const data = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let at = 0
  for (const part of parts) { data.set(part, at); at += part.byteLength }
  return { data, sizes: parts.map((part) => part.byteLength) }
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}

/** Registers the SnapshotStorage compliance tests. */
export function snapshotStorageSuite (setup: TestSetup<SnapshotStorage, SnapshotStorageCapabilities>): void {
  const caps = withCapabilities(setup.capabilities, { restart: true })

  describe('SnapshotStorage compliance', () => {
    let store: SnapshotStorage

    beforeEach(async () => {
      store = await setup.setup()
      await store.start()
    })

    afterEach(async () => {
      await setup.teardown(store)
    })

    async function install (index: number, term: number, data: Uint8Array, chunk = 10_000): Promise<void> {
      const writer = await store.begin({ index, term, config })
      for (let at = 0; at < data.byteLength; at += chunk) await writer.write(data.subarray(at, at + chunk))
      await writer.commit()
    }

    it('has no snapshot at first, and reading one rejects with ERR_NOT_FOUND', async () => {
      expect(await store.latest()).toBeUndefined()
      await expect(readAll(store.read())).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    })

    it('installs a streamed snapshot and reads it back in chunks', async () => {
      const data = pattern(150_000, 1)
      const writer = await store.begin({ index: 10, term: 2, config })
      expect(writer.offset).toBe(0)
      expect(writer.meta).toMatchObject({ index: 10, term: 2 })
      for (let at = 0; at < data.byteLength; at += 7_000) await writer.write(data.subarray(at, at + 7_000))
      const meta = await writer.commit()
      expect(meta).toMatchObject({ index: 10, term: 2, config, size: data.byteLength })
      expect(meta.checksum.length).toBeGreaterThan(0)
      expect(await store.latest()).toEqual(meta)
      const { data: read, sizes } = await readAll(store.read({ chunkSize: 16_384 }))
      expect(same(read, data)).toBe(true)
      expect(sizes.length).toBeGreaterThan(1)
      expect(sizes.every((size) => size <= 16_384)).toBe(true)
    })

    it('reads from an offset', async () => {
      const data = pattern(50_000, 2)
      await install(5, 1, data)
      const { data: tail } = await readAll(store.read({ offset: 12_345, chunkSize: 4096 }))
      expect(same(tail, data.subarray(12_345))).toBe(true)
    })

    it('installs an empty snapshot', async () => {
      await install(3, 1, new Uint8Array(0))
      expect(await store.latest()).toMatchObject({ index: 3, size: 0 })
      expect((await readAll(store.read())).data.byteLength).toBe(0)
    })

    it('shows nothing until commit, and nothing after abort', async () => {
      await install(1, 1, pattern(100, 3))
      const writer = await store.begin({ index: 2, term: 1, config })
      await writer.write(pattern(1000, 4))
      expect((await store.latest())?.index).toBe(1)
      await writer.abort()
      expect((await store.latest())?.index).toBe(1)
      const again = await store.begin({ index: 2, term: 1, config })
      expect(again.offset).toBe(0)
      await again.abort()
    })

    it('does not alias written chunks', async () => {
      const chunk = pattern(1000, 5)
      const writer = await store.begin({ index: 1, term: 1, config })
      await writer.write(chunk)
      const expected = new Uint8Array(chunk)
      chunk.fill(0)
      await writer.commit()
      expect(same((await readAll(store.read())).data, expected)).toBe(true)
    })

    it('resumes an interrupted write of the same index and term from its offset', async () => {
      const data = pattern(60_000, 6)
      const first = await store.begin({ index: 7, term: 3, config })
      await first.write(data.subarray(0, 20_000))
      await first.write(data.subarray(20_000, 30_000))
      const resumed = await store.begin({ index: 7, term: 3, config })
      expect(resumed.offset).toBeGreaterThanOrEqual(0)
      expect(resumed.offset).toBeLessThanOrEqual(30_000)
      await resumed.write(data.subarray(resumed.offset))
      await resumed.commit()
      expect(same((await readAll(store.read())).data, data)).toBe(true)
      // The superseded writer can no longer change anything.
      await expect(first.write(pattern(10, 7))).rejects.toBeDefined()
    })

    it('starts over for a different term at the same index', async () => {
      const first = await store.begin({ index: 7, term: 3, config })
      await first.write(pattern(5000, 8))
      const other = await store.begin({ index: 7, term: 4, config })
      expect(other.offset).toBe(0)
      await other.abort()
      await first.abort()
    })

    it('keeps several snapshots, reads one by index and reports the newest as latest', async () => {
      await install(10, 1, pattern(1000, 10))
      await install(30, 2, pattern(2000, 30))
      await install(20, 2, pattern(1500, 20))
      expect((await store.latest())?.index).toBe(30)
      expect(same((await readAll(store.read({ index: 20 }))).data, pattern(1500, 20))).toBe(true)
      expect(same((await readAll(store.read())).data, pattern(2000, 30))).toBe(true)
      await expect(readAll(store.read({ index: 25 }))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    })

    it('prunes all but the newest snapshots', async () => {
      await install(10, 1, pattern(100, 1))
      await install(20, 1, pattern(100, 2))
      await install(30, 1, pattern(100, 3))
      await store.prune(2)
      await expect(readAll(store.read({ index: 10 }))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      expect((await readAll(store.read({ index: 20 }))).data.byteLength).toBe(100)
      await store.prune(1)
      await expect(readAll(store.read({ index: 20 }))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      expect((await store.latest())?.index).toBe(30)
      await store.prune(1)
      expect((await store.latest())?.index).toBe(30)
    })

    it('rejects with ERR_ABORTED when the signal has already fired', async () => {
      await install(1, 1, pattern(100, 1))
      const signal = AbortSignal.abort()
      await expect(store.latest({ signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(store.begin({ index: 2, term: 1, config }, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(readAll(store.read({ signal }))).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(store.prune(0, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      const writer = await store.begin({ index: 2, term: 1, config })
      await expect(writer.write(pattern(10, 1), { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(writer.commit({ signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await writer.abort()
      expect((await store.latest())?.index).toBe(1)
    })

    it('stops a read when its signal fires midway', async () => {
      await install(1, 1, pattern(100_000, 1))
      const controller = new AbortController()
      let chunks = 0
      const reading = (async () => {
        for await (const _chunk of store.read({ chunkSize: 1000, signal: controller.signal })) {
          if (++chunks === 3) controller.abort()
        }
      })()
      await expect(reading).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(chunks).toBeLessThan(100)
    })

    it.runIf(caps.restart)('keeps installed snapshots across a restart', async () => {
      await install(10, 1, pattern(3000, 10))
      await install(20, 2, pattern(4000, 20))
      const latest = await store.latest()
      await store.stop()
      await store.start()
      expect(await store.latest()).toEqual(latest)
      expect(same((await readAll(store.read({ index: 10 }))).data, pattern(3000, 10))).toBe(true)
    })

    it.runIf(caps.restart)('resumes an interrupted write after a restart', async () => {
      const data = pattern(40_000, 9)
      const writer = await store.begin({ index: 9, term: 1, config })
      await writer.write(data.subarray(0, 25_000))
      await store.stop()
      await store.start()
      expect(await store.latest()).toBeUndefined()
      const resumed = await store.begin({ index: 9, term: 1, config })
      expect(resumed.offset).toBeLessThanOrEqual(25_000)
      await resumed.write(data.subarray(resumed.offset))
      await resumed.commit()
      expect(same((await readAll(store.read())).data, data)).toBe(true)
    })

    it('rejects use after stop with ERR_NOT_STARTED', async () => {
      await store.stop()
      await store.stop()
      await expect(store.latest()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
      await expect(store.begin({ index: 1, term: 1, config })).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
      await store.start()
      await store.start()
      expect(await store.latest()).toBeUndefined()
    })
  })
}
