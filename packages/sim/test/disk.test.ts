import { describe, expect, it } from 'vitest'
import type { LogEntry } from '@synod/interfaces'
import { constant, createSimDisk, createSimulation, type SimDisk, type Simulation } from '../src/index.js'

const entry = (index: number, term = 1): LogEntry => ({ index, term, type: 'command', data: new Uint8Array([index & 0xff]) })
const range = (from: number, to: number, term = 1): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term))

function setup (seed = 1): { sim: Simulation, disk: SimDisk } {
  const sim = createSimulation({ seed, trace: { record: true } })
  return { sim, disk: createSimDisk(sim, { name: 'n1', syncLatency: constant(2) }) }
}

/** Tracks whether a promise settled without awaiting it. */
function track<T> (promise: Promise<T>): { settled: () => boolean, promise: Promise<T> } {
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  return { settled: () => settled, promise }
}

describe('createSimDisk', () => {
  it('resolves a write only after a simulated fsync, while reads see it at once', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    await log.start()
    const append = track(log.append(range(1, 3)))
    expect(log.lastIndex()).toBe(3)
    expect((await log.entries(1, 4)).map((e) => e.index)).toEqual([1, 2, 3])
    await sim.runFor(1)
    expect(append.settled()).toBe(false)
    await sim.runFor(1)
    expect(append.settled()).toBe(true)
    expect(disk.syncs).toBe(1)
  })

  it('a crash loses unsynced writes and keeps synced ones', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    const hard = disk.hardState()
    await log.start(); await hard.start()
    await Promise.all([log.append(range(1, 5)), hard.save({ term: 1, vote: 'n1', commit: 3 }), sim.runUntilQuiet()])

    const unsyncedAppend = track(log.append(range(6, 8)))
    const unsyncedSave = track(hard.save({ term: 2, vote: 'n2', commit: 5 }))
    const report = disk.crash()
    expect(report.map((r) => [r.file, r.unsynced])).toEqual([['log', 1], ['hard-state', 1]])
    await sim.runUntilQuiet()
    expect(unsyncedAppend.settled()).toBe(false)
    expect(unsyncedSave.settled()).toBe(false)

    const log2 = disk.log()
    const hard2 = disk.hardState()
    await log2.start(); await hard2.start()
    expect(log2.lastIndex()).toBe(5)
    expect((await log2.entries(1, 10)).map((e) => e.index)).toEqual([1, 2, 3, 4, 5])
    expect(await hard2.load()).toEqual({ term: 1, vote: 'n1', commit: 3 })
  })

  it('a write that started after an fsync began waits for the next fsync and is lost if power fails first', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    await log.start()
    const first = track(log.append(range(1, 1)))
    await sim.runFor(1)
    const second = track(log.append(range(2, 2)))
    await sim.runFor(1) // first fsync completes; it did not cover the second write
    expect(first.settled()).toBe(true)
    expect(second.settled()).toBe(false)
    disk.crash()
    const reopened = disk.log()
    expect(reopened.lastIndex()).toBe(1)
  })

  it('torn crashes keep a prefix of the unsynced writes, never more than was written, never less than was synced', async () => {
    const outcomes = new Set<number>()
    for (let seed = 0; seed < 40; seed++) {
      const { sim, disk } = setup(seed)
      const log = disk.log()
      await log.start()
      await Promise.all([log.append(range(1, 2)), sim.runUntilQuiet()])
      void log.append(range(3, 6))
      void log.append(range(7, 8))
      disk.crash({ torn: true })
      const reopened = disk.log()
      await reopened.start()
      const last = reopened.lastIndex()
      outcomes.add(last)
      expect(last).toBeGreaterThanOrEqual(2)
      expect(last).toBeLessThanOrEqual(8)
      expect((await reopened.entries(1, last + 1)).map((e) => e.index)).toEqual(range(1, last).map((e) => e.index))
    }
    // Over 40 seeds we see lost, partially written and fully written outcomes.
    expect(outcomes.has(2)).toBe(true)
    expect([...outcomes].some((last) => last > 2 && last < 6)).toBe(true)
  })

  it('a process crash keeps the page cache: issued writes still become durable', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    await log.start()
    const pending = track(log.append(range(1, 3)))
    disk.processCrash()
    await sim.runUntilQuiet()
    expect(pending.settled()).toBe(false)
    disk.crash()
    expect(disk.log().lastIndex()).toBe(3)
  })

  it('setSyncLatency stalls later fsyncs until it is restored', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    await log.start()
    disk.setSyncLatency(constant(300))
    const slow = track(log.append(range(1, 1)))
    await sim.runFor(299)
    expect(slow.settled()).toBe(false)
    await sim.runFor(1)
    expect(slow.settled()).toBe(true)
    disk.setSyncLatency()
    const fast = track(log.append(range(2, 2)))
    await sim.runFor(2)
    expect(fast.settled()).toBe(true)
  })

  it('handles from before a crash are dead', async () => {
    const { disk } = setup()
    const log = disk.log()
    await log.start()
    disk.crash()
    await expect(log.append(range(1, 1))).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await expect(log.start()).rejects.toMatchObject({ code: 'ERR_STOPPED' })
  })

  it('implements the log contract: truncation on conflict, compaction, gaps, maxBytes', async () => {
    const { sim, disk } = setup()
    const log = disk.log()
    await expect(log.append(range(1, 1))).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
    await log.start()
    const run = async (promise: Promise<void>): Promise<void> => { await Promise.all([promise, sim.runUntilQuiet()]) }
    await run(log.append(range(1, 10)))
    await run(log.append(range(6, 7, 2)))
    expect(log.lastIndex()).toBe(7)
    expect(log.term(6)).toBe(2)
    await expect(log.append(range(9, 9))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(log.append([entry(8), entry(10)])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await run(log.compactPrefix(4, 1))
    expect(log.firstIndex()).toBe(5)
    expect(log.term(4)).toBe(1)
    expect(log.term(3)).toBeUndefined()
    await expect(log.entries(3, 6)).rejects.toMatchObject({ code: 'ERR_COMPACTED' })
    expect((await log.entries(5, 8, { maxBytes: 2 })).map((e) => e.index)).toEqual([5, 6])
    expect((await log.entries(5, 8, { maxBytes: 0 })).map((e) => e.index)).toEqual([5])
    await run(log.truncateSuffix(6))
    expect(log.lastIndex()).toBe(5)
    await run(log.compactPrefix(20, 3))
    expect([log.firstIndex(), log.lastIndex(), log.term(20)]).toEqual([21, 20, 3])
    disk.crash()
    const reopened = disk.log()
    expect([reopened.firstIndex(), reopened.lastIndex(), reopened.term(20)]).toEqual([21, 20, 3])
  })

  it('rejects with ERR_ABORTED when the signal already fired', async () => {
    const { disk } = setup()
    const log = disk.log()
    await log.start()
    const controller = new AbortController()
    controller.abort()
    await expect(log.append(range(1, 1), { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(log.lastIndex()).toBe(0)
  })

  it('stores snapshots durably, resumes interrupted writes and detects bit rot', async () => {
    const { sim, disk } = setup()
    const config = { voters: ['n1'], learners: [], addresses: { n1: 'sim://n1' } }
    const snapshots = disk.snapshots()
    await snapshots.start()
    const run = async <T>(promise: Promise<T>): Promise<T> => (await Promise.all([promise, sim.runUntilQuiet()]))[0]
    const writer = await run(snapshots.begin({ index: 10, term: 2, config }))
    await run(writer.write(new Uint8Array([1, 2, 3])))
    disk.crash()

    const reopened = disk.snapshots()
    await reopened.start()
    expect(await reopened.latest()).toBeUndefined()
    const resumed = await run(reopened.begin({ index: 10, term: 2, config }))
    expect(resumed.offset).toBe(3)
    await run(resumed.write(new Uint8Array([4, 5])))
    const meta = await run(resumed.commit())
    expect(meta).toMatchObject({ index: 10, term: 2, size: 5 })
    expect(meta.checksum).toMatch(/^crc32:[0-9a-f]{8}$/)

    const chunks: number[][] = []
    for await (const chunk of reopened.read({ chunkSize: 2, offset: 1 })) chunks.push([...chunk])
    expect(chunks).toEqual([[2, 3], [4, 5]])
    await expect(async () => { for await (const _ of reopened.read({ index: 99 })) { /* empty */ } }).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })

    expect(disk.corruptSnapshot(10)).toBe(true)
    await expect(async () => { for await (const _ of reopened.read()) { /* empty */ } }).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('prunes old snapshots and loses an uncommitted one on power loss', async () => {
    const { sim, disk } = setup()
    const config = { voters: ['n1'], learners: [], addresses: {} }
    const snapshots = disk.snapshots()
    await snapshots.start()
    const run = async <T>(promise: Promise<T>): Promise<T> => (await Promise.all([promise, sim.runUntilQuiet()]))[0]
    for (const index of [5, 10, 15]) {
      const writer = await run(snapshots.begin({ index, term: 1, config }))
      await run(writer.write(new Uint8Array([index])))
      await run(writer.commit())
    }
    await run(snapshots.prune(2))
    const writer = await run(snapshots.begin({ index: 20, term: 1, config }))
    await run(writer.write(new Uint8Array([20])))
    void writer.commit()
    disk.crash()
    const reopened = disk.snapshots()
    await reopened.start()
    expect((await reopened.latest())?.index).toBe(15)
    await expect(async () => { for await (const _ of reopened.read({ index: 5 })) { /* empty */ } }).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })
})
