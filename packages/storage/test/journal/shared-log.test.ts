import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HardState, LogEntry } from '@synod/interfaces'
import { createSharedLog, type SharedLog } from '../../src/index.js'
import { removeDir, tempDir } from '../helpers.js'
import { describeEntries, dump, groupEntries, segmentFiles } from './helpers.js'

describe('shared log', () => {
  let dir: string
  let journal: SharedLog | undefined

  beforeEach(async () => { dir = await tempDir('synod-journal-') })
  afterEach(async () => {
    await journal?.stop()
    journal = undefined
    await removeDir(dir)
  })

  async function open (segmentBytes = 64 * 1024): Promise<SharedLog> {
    journal = createSharedLog({ dir, segmentBytes })
    await journal.start()
    return journal
  }

  async function reopen (segmentBytes?: number): Promise<SharedLog> {
    await journal?.stop()
    return await open(segmentBytes)
  }

  it('keeps many groups apart when their appends, truncations and saves interleave, across a restart', async () => {
    const shared = await open(16 * 1024)
    const groups = 20
    const expected = new Map<number, LogEntry[]>()
    for (let group = 0; group < groups; group++) expected.set(group, [])
    // Rounds of concurrent appends from every group, with a conflicting rewrite now and then.
    for (let round = 0; round < 6; round++) {
      await Promise.all(Array.from({ length: groups }, async (_, group) => {
        const log = shared.group(group)
        await log.start()
        const model = expected.get(group) as LogEntry[]
        const rewrite = round > 0 && (group + round) % 4 === 0
        const from = rewrite ? Math.max(1, model.length - 1) : model.length + 1
        const batch = groupEntries(group, from, 1 + ((group + round) % 5), round + 1)
        await log.append(batch)
        model.splice(from - 1, model.length, ...batch)
        await shared.hardState<HardState>(group).start()
        await shared.hardState<HardState>(group).save({ term: round + 1, vote: `n${group}`, commit: from })
      }))
    }
    await shared.group(5).truncateSuffix(3)
    ;(expected.get(5) as LogEntry[]).splice(2)
    for (let group = 0; group < groups; group++) {
      expect(await dump(shared.group(group))).toEqual(describeEntries(expected.get(group) as LogEntry[]))
    }
    const reopened = await reopen(16 * 1024)
    for (let group = 0; group < groups; group++) {
      const log = reopened.group(group)
      await log.start()
      expect(await dump(log)).toEqual(describeEntries(expected.get(group) as LogEntry[]))
      expect(log.lastIndex()).toBe((expected.get(group) as LogEntry[]).length)
      const hardState = reopened.hardState<HardState>(group)
      await hardState.start()
      expect(await hardState.load()).toEqual({ term: 6, vote: `n${group}`, commit: expect.any(Number) as number })
    }
    expect(reopened.groups()).toHaveLength(groups)
  })

  it('makes appends of many groups issued together durable with one fdatasync (group commit)', async () => {
    const shared = await open()
    const logs = Array.from({ length: 16 }, (_, group) => shared.group(group))
    for (const log of logs) await log.start()
    const before = shared.stats().syncs
    await Promise.all(logs.map(async (log, group) => {
      await log.append(groupEntries(group, 1, 3))
    }))
    expect(shared.stats().syncs - before).toBe(1)
    for (const [group, log] of logs.entries()) expect(await dump(log)).toEqual(describeEntries(groupEntries(group, 1, 3)))
  })

  it('acknowledges appends that arrive during a sync with the next sync, not the one in flight', async () => {
    const shared = await open()
    const a = shared.group(1)
    const b = shared.group(2)
    await a.start()
    await b.start()
    const first = a.append(groupEntries(1, 1, 1))
    // Issued a turn later, after the first batch was taken: it must wait for a second sync.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    const second = b.append(groupEntries(2, 1, 1))
    await Promise.all([first, second])
    expect(shared.stats().syncs).toBe(2)
    expect(b.lastIndex()).toBe(1)
  })

  it('garbage-collects segments once every group compacts past them, keeping compaction points and hard states', async () => {
    const shared = await open(4096)
    const a = shared.group(1)
    const b = shared.group(2)
    await a.start()
    await b.start()
    await shared.hardState<HardState>(1).start()
    await shared.hardState<HardState>(1).save({ term: 3, vote: 'early', commit: 0 })
    for (let round = 0; round < 80; round++) {
      await Promise.all([a.append(groupEntries(1, a.lastIndex() + 1, 4, 3)), b.append(groupEntries(2, b.lastIndex() + 1, 4, 3))])
    }
    const written = (await segmentFiles(dir)).length
    expect(written).toBeGreaterThan(8)
    // Only group 1 compacts: group 2 still needs the old segments.
    await a.compactPrefix(300, 3)
    for (let round = 0; round < 10; round++) await a.append(groupEntries(1, a.lastIndex() + 1, 4, 3))
    expect(shared.stats().collectedSegments).toBe(0)
    await b.compactPrefix(310, 3)
    for (let round = 0; round < 12; round++) await a.append(groupEntries(1, a.lastIndex() + 1, 4, 3))
    expect(shared.stats().collectedSegments).toBeGreaterThan(3)
    expect((await segmentFiles(dir)).length).toBeLessThan(written)
    const aEntries = await dump(a)
    const bEntries = await dump(b)

    const reopened = await reopen(4096)
    const a2 = reopened.group(1)
    const b2 = reopened.group(2)
    await a2.start()
    await b2.start()
    expect(a2.firstIndex()).toBe(301)
    expect(a2.term(300)).toBe(3)
    expect(b2.firstIndex()).toBe(311)
    expect(b2.lastIndex()).toBe(320)
    expect(b2.term(310)).toBe(3)
    expect(await dump(a2)).toEqual(aEntries)
    expect(await dump(b2)).toEqual(bEntries)
    const hardState = reopened.hardState<HardState>(1)
    await hardState.start()
    expect(await hardState.load()).toEqual({ term: 3, vote: 'early', commit: 0 })
  })

  it('recovers a group whose oldest surviving records were later cut off by a truncation', async () => {
    const shared = await open(4096)
    const log = shared.group(1)
    await log.start()
    await log.append(groupEntries(1, 1, 40, 1, 80)) // fills segment 1
    await log.append(groupEntries(1, 41, 20, 1, 80)) // opens segment 2
    await log.truncateSuffix(30)
    await log.append(groupEntries(1, 30, 16, 2, 80))
    await log.compactPrefix(35, 2)
    // Another group opens segment 3: segment 1 (entries 1..40, all dead) is collected, and
    // segment 2 now starts with entries 41..60 that its own truncation record cuts off.
    await shared.group(2).append(groupEntries(2, 1, 30, 1, 80))
    // Collection runs after that batch is acknowledged; the next batch waits for it.
    await shared.group(2).append(groupEntries(2, 31, 1, 1, 80))
    expect(shared.stats().collectedSegments).toBe(1)
    const expected = await dump(log)
    const reopened = await reopen(4096)
    const again = reopened.group(1)
    expect(again.firstIndex()).toBe(36)
    expect(again.term(35)).toBe(2)
    expect(await dump(again)).toEqual(expected)
    expect(expected).toEqual(describeEntries(groupEntries(1, 36, 10, 2, 80)))
  })

  it('copies an idle group with a short log forward so it does not pin old segments', async () => {
    journal = createSharedLog({ dir, segmentBytes: 4096, rewriteGroupBytes: 1024, rewriteLagSegments: 2 })
    const shared = journal
    await shared.start()
    const idle = shared.group(1)
    const busy = shared.group(2)
    await shared.hardState<HardState>(1).save({ term: 2, vote: 'n1', commit: 3 })
    await idle.append(groupEntries(1, 1, 2, 1))
    await idle.append(groupEntries(1, 3, 3, 2))
    await idle.compactPrefix(1, 1)
    for (let round = 0; round < 150; round++) {
      await busy.append(groupEntries(2, busy.lastIndex() + 1, 4, 1))
      await busy.compactPrefix(busy.lastIndex() - 2, 1)
    }
    expect(shared.stats().rewrittenEntries).toBeGreaterThanOrEqual(4)
    expect(shared.stats().collectedSegments).toBeGreaterThan(5)
    expect((await segmentFiles(dir))[0]).not.toMatch(/0{19}1\.log$/)
    const reopened = await reopen(4096)
    const again = reopened.group(1)
    expect(again.firstIndex()).toBe(2)
    expect(again.term(1)).toBe(1)
    expect(await dump(again)).toEqual(describeEntries([...groupEntries(1, 2, 1, 1), ...groupEntries(1, 3, 3, 2)]))
    expect(await reopened.hardState<HardState>(1).load()).toEqual({ term: 2, vote: 'n1', commit: 3 })
    expect(reopened.group(2).lastIndex()).toBe(600)
  })

  it('removeGroup empties a group, frees its segments and survives a restart; the id can be used again', async () => {
    const shared = await open(4096)
    const moving = shared.group(9)
    const staying = shared.group(10)
    await moving.start()
    await staying.start()
    await shared.hardState<HardState>(9).start()
    await shared.hardState<HardState>(9).save({ term: 2, vote: 'x', commit: 1 })
    for (let round = 0; round < 30; round++) await moving.append(groupEntries(9, moving.lastIndex() + 1, 5, 2))
    await staying.append(groupEntries(10, 1, 2))
    await staying.compactPrefix(2, 1)
    await shared.removeGroup(9)
    expect(moving.lastIndex()).toBe(0)
    expect(await shared.hardState<HardState>(9).load()).toBeUndefined()
    expect(shared.groups()).toEqual([10])
    for (let round = 0; round < 20; round++) await staying.append(groupEntries(10, staying.lastIndex() + 1, 5, 2))
    expect(shared.stats().collectedSegments).toBeGreaterThan(0)

    const reopened = await reopen(4096)
    const again = reopened.group(9)
    await again.start()
    expect(again.lastIndex()).toBe(0)
    expect(reopened.groups()).toEqual([10])
    await again.append(groupEntries(9, 1, 2, 7))
    const reopenedAgain = await reopen(4096)
    const third = reopenedAgain.group(9)
    await third.start()
    expect(await dump(third)).toEqual(describeEntries(groupEntries(9, 1, 2, 7)))
    expect(reopenedAgain.group(10).lastIndex()).toBe(102)
  })

  it('stops one view and answers a no-op truncation while other groups keep the journal busy', async () => {
    const shared = await open()
    const busy = shared.group(1)
    const quiet = shared.group(2)
    await quiet.append(groupEntries(2, 1, 3))
    let running = true
    let busyAppends = 0
    const loop = (async () => {
      while (running) {
        await busy.append(groupEntries(1, busy.lastIndex() + 1, 1))
        busyAppends++
      }
    })()
    while (busyAppends < 3) await new Promise((resolve) => setImmediate(resolve))
    await quiet.truncateSuffix(10)
    await quiet.stop()
    expect(running).toBe(true)
    await expect(quiet.append(groupEntries(2, 4, 1))).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
    running = false
    await loop
    await quiet.start()
    expect(quiet.lastIndex()).toBe(3)
  })

  it('rejects an invalid group id with ERR_INVALID_ARGUMENT', async () => {
    const shared = await open()
    expect(() => shared.group(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => shared.group(1.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => shared.hardState(2 ** 32)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('refuses a second instance on the same directory with ERR_LOCKED', async () => {
    await open()
    const second = createSharedLog({ dir })
    await expect(second.start()).rejects.toMatchObject({ code: 'ERR_LOCKED' })
  })
})
