import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogEntry } from '@synod/interfaces'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFileLogStorage } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

function entry (index: number, term = 1, size = 100): LogEntry {
  return { index, term, type: 'command', data: new Uint8Array(size).fill(index & 0xff) }
}

describe('file log', () => {
  let dir: string

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    vi.restoreAllMocks()
    await removeDir(dir)
  })

  it('group commit: concurrent appends share fdatasyncs', async () => {
    const probe = await open(join(dir, 'probe'), 'w')
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    // Every commit through the thread pool, where the spy can count them.
    const log = createFileLogStorage({ dir, preallocate: false, inlineSyncMaxBytes: 0 })
    await log.start()
    await log.append([entry(1)])
    const datasync = vi.spyOn(fileHandlePrototype, 'datasync')
    await Promise.all(Array.from({ length: 64 }, async (_, i) => { await log.append([entry(i + 2)]) }))
    expect(log.lastIndex()).toBe(65)
    // One batch for all 64 (a second only if the first sync raced the queue): far fewer than 64.
    expect(datasync.mock.calls.length).toBeGreaterThanOrEqual(1)
    expect(datasync.mock.calls.length).toBeLessThanOrEqual(2)
    // Sixty-four writers that each append again as soon as they are acknowledged keep sharing.
    datasync.mockClear()
    let next = 66
    await Promise.all(Array.from({ length: 64 }, async () => {
      for (let round = 0; round < 5; round++) await log.append([entry(next++)])
    }))
    expect(log.lastIndex()).toBe(65 + 320)
    expect(datasync.mock.calls.length).toBeLessThanOrEqual(10)
    await log.stop()
  })

  it('acknowledges overlapping commits in order even when a later sync finishes first', async () => {
    const probe = await open(join(dir, 'probe'), 'w')
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const log = createFileLogStorage({ dir, preallocate: false, maxSyncsInFlight: 2, inlineSyncMaxBytes: 0 })
    await log.start()
    await log.append([entry(1)])
    const realDatasync = fileHandlePrototype.datasync
    let calls = 0
    // The first commit's sync is slow, the second's fast.
    vi.spyOn(fileHandlePrototype, 'datasync').mockImplementation(async function (this: unknown) {
      const delay = calls++ === 0 ? 50 : 0
      await realDatasync.call(this)
      await new Promise((resolve) => setTimeout(resolve, delay))
    })
    const acknowledged: number[] = []
    await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      await log.append([entry(i + 2)])
      acknowledged.push(i + 2)
    }))
    expect(calls).toBe(2)
    expect(acknowledged).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
    await log.stop()
  })

  it('after a failed sync rejects the later commit in flight too, and every later append', async () => {
    const probe = await open(join(dir, 'probe'), 'w')
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const log = createFileLogStorage({ dir, preallocate: false, maxSyncsInFlight: 2, inlineSyncMaxBytes: 0 })
    await log.start()
    await log.append([entry(1)])
    const realDatasync = fileHandlePrototype.datasync
    let calls = 0
    // The first commit's sync fails (slowly); the second, written meanwhile, syncs successfully.
    vi.spyOn(fileHandlePrototype, 'datasync').mockImplementation(async function (this: unknown) {
      if (calls++ === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
      }
      await realDatasync.call(this)
    })
    const results = await Promise.allSettled(Array.from({ length: 8 }, async (_, i) => { await log.append([entry(i + 2)]) }))
    expect(calls).toBe(2)
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 8 }, () => 'rejected'))
    expect(log.lastIndex()).toBe(1)
    await expect(log.append([entry(2)])).rejects.toThrow('EIO')
    await log.stop()
  })

  it('overlapping commits leave a write-start flag at least every MiB and a quarter', async () => {
    // 64 writers of 4000-byte entries: about 2.6 MB, nearly all of it written while another
    // commit was syncing. Recovery can only prove data durable up to a flagged frame, so the
    // writer must stop overlapping now and then to write one.
    const dataBytes = 4000
    const frameBytes = 9 + 17 + dataBytes
    const log = createFileLogStorage({ dir, preallocate: false, maxSyncsInFlight: 2 })
    await log.start()
    let next = 1
    await Promise.all(Array.from({ length: 64 }, async () => {
      for (let round = 0; round < 10; round++) await log.append([entry(next++, 1, dataBytes)])
    }))
    await log.stop()
    const segment = (await readdir(dir)).find((name) => name.endsWith('.wal')) as string
    const content = await readFile(join(dir, segment))
    const flaggedOffsets: number[] = []
    for (let index = 1; index <= 640; index++) {
      const offset = 16 + (index - 1) * frameBytes
      if (((content[offset + 8] as number) & 0x80) !== 0) flaggedOffsets.push(offset)
    }
    expect(flaggedOffsets[0]).toBe(16)
    expect(flaggedOffsets.length).toBeLessThan(640)
    const ends = [...flaggedOffsets, 16 + 640 * frameBytes]
    for (let i = 1; i < ends.length; i++) {
      expect((ends[i] as number) - (ends[i - 1] as number)).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024)
    }
  })

  it('syncs a small commit on the calling thread and a large one in the thread pool, both durable', async () => {
    const probe = await open(join(dir, 'probe'), 'w')
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const log = createFileLogStorage({ dir, preallocate: false, inlineSyncMaxBytes: 1000 })
    await log.start()
    const datasync = vi.spyOn(fileHandlePrototype, 'datasync')
    await log.append([entry(1)])
    await log.append([entry(2), entry(3)])
    expect(datasync).not.toHaveBeenCalled()
    // 2,000 bytes of payload: above the limit, so through the pool.
    await log.append([entry(4, 1, 2000)])
    expect(datasync).toHaveBeenCalledTimes(1)
    await log.stop()
    const reopened = createFileLogStorage({ dir, preallocate: false })
    await reopened.start()
    expect(reopened.lastIndex()).toBe(4)
    expect((await reopened.entries(1, 5)).map((e) => e.data.byteLength)).toEqual([100, 100, 100, 2000])
    await reopened.stop()
  })

  it('rejects a negative inlineSyncMaxBytes with ERR_INVALID_ARGUMENT', () => {
    expect(() => createFileLogStorage({ dir, inlineSyncMaxBytes: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('rejects an entry above maxEntryBytes with ERR_TOO_LARGE', async () => {
    const log = createFileLogStorage({ dir, maxEntryBytes: 1000 })
    await log.start()
    await expect(log.append([entry(1, 1, 1001)])).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' })
    await log.append([entry(1, 1, 1000)])
    expect(log.lastIndex()).toBe(1)
    await log.stop()
  })

  it('keeps reads consistent while a truncation and a rewrite are queued behind them', async () => {
    const log = createFileLogStorage({ dir, segmentBytes: 8192, preallocate: false })
    await log.start()
    await log.append(Array.from({ length: 300 }, (_, i) => entry(i + 1)))
    const read = log.entries(1, 301)
    const rewrite = log.append([entry(100, 2), entry(101, 2)])
    const [entries] = await Promise.all([read, rewrite])
    // The read ran first or second, never half-way: either all 300 old entries, or 99 old ones.
    expect([300, 101]).toContain(entries.length)
    expect(entries.every((found, i) => found.index === i + 1)).toBe(true)
    expect(log.lastIndex()).toBe(101)
    expect(log.term(101)).toBe(2)
    await log.stop()
  })

  it('refuses segment sizes too small to hold a frame', () => {
    expect(() => createFileLogStorage({ dir, segmentBytes: 100 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error)
  })
})
