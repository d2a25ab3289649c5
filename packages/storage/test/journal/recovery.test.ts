import { open as openFile, stat, truncate, unlink } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HardState } from '@synod/interfaces'
import { createSharedLog, type SharedLog } from '../../src/index.js'
import { removeDir, tempDir } from '../helpers.js'
import { describeEntries, dump, groupEntries, segmentFiles } from './helpers.js'

async function flipByte (path: string, position: number): Promise<void> {
  const handle = await openFile(path, 'r+')
  const byte = Buffer.alloc(1)
  await handle.read(byte, 0, 1, position)
  byte[0] = (byte[0] as number) ^ 0x5a
  await handle.write(byte, 0, 1, position)
  await handle.close()
}

async function appendBytes (path: string, bytes: Buffer): Promise<void> {
  const handle = await openFile(path, 'a')
  await handle.write(bytes)
  await handle.close()
}

describe('shared log recovery', () => {
  let dir: string
  const opened: SharedLog[] = []

  beforeEach(async () => { dir = await tempDir('synod-journal-') })
  afterEach(async () => {
    for (const journal of opened.splice(0)) await journal.stop()
    await removeDir(dir)
  })

  function create (): SharedLog {
    const journal = createSharedLog({ dir, segmentBytes: 4096 })
    opened.push(journal)
    return journal
  }

  /** Three groups, 30 batches each, in separate batches (one sync each), then stop. */
  async function writeJournal (): Promise<void> {
    const journal = create()
    await journal.start()
    for (let batch = 0; batch < 30; batch++) {
      for (let group = 1; group <= 3; group++) await journal.group(group).append(groupEntries(group, batch * 2 + 1, 2))
    }
    await journal.hardState<HardState>(2).start()
    await journal.hardState<HardState>(2).save({ term: 4, vote: 'n1', commit: 60 })
    await journal.stop()
  }

  async function expectIntact (journal: SharedLog, last = 60): Promise<void> {
    for (let group = 1; group <= 3; group++) {
      const log = journal.group(group)
      await log.start()
      expect(await dump(log)).toEqual(describeEntries(groupEntries(group, 1, last)))
    }
  }

  it('drops a torn record at the tail, keeps everything acknowledged, and goes on appending', async () => {
    await writeJournal()
    const files = await segmentFiles(dir)
    const last = files.at(-1) as string
    const size = (await stat(last)).size
    // Half of a record that never finished: a plausible frame header and a few payload bytes.
    const torn = Buffer.alloc(30, 0x11)
    torn.writeUInt32LE(500, 4)
    torn[8] = 0x81
    await appendBytes(last, torn)
    const journal = create()
    await journal.start()
    await expectIntact(journal)
    expect((await stat(last)).size).toBe(size)
    await journal.group(1).append(groupEntries(1, 61, 1))
    await journal.stop()
    const again = create()
    await again.start()
    const log = again.group(1)
    await log.start()
    expect(log.lastIndex()).toBe(61)
    const hardState = again.hardState<HardState>(2)
    await hardState.start()
    expect(await hardState.load()).toEqual({ term: 4, vote: 'n1', commit: 60 })
  })

  it('treats damage inside the last batch of the newest segment as a torn tail', async () => {
    await writeJournal()
    const last = (await segmentFiles(dir)).at(-1) as string
    const size = (await stat(last)).size
    // The hard-state save is the newest batch: its record is the last bytes of the file.
    await flipByte(last, size - 3)
    const journal = create()
    await journal.start()
    await expectIntact(journal)
    const hardState = journal.hardState<HardState>(2)
    await hardState.start()
    expect(await hardState.load()).toBeUndefined()
  })

  it('cuts zero bytes after the last record (space never written)', async () => {
    await writeJournal()
    const last = (await segmentFiles(dir)).at(-1) as string
    await appendBytes(last, Buffer.alloc(700))
    const journal = create()
    await journal.start()
    await expectIntact(journal)
  })

  it('refuses to start with ERR_CORRUPT when an acknowledged record in the newest segment is damaged', async () => {
    await writeJournal()
    const last = (await segmentFiles(dir)).at(-1) as string
    // Early in the segment: later batches follow, so this record was acknowledged.
    await flipByte(last, 16 + 20)
    const error = await create().start().then(() => undefined, (cause: unknown) => cause as { code?: string, file?: string })
    expect(error?.code).toBe('ERR_CORRUPT')
    expect(error?.file).toBe(last)
  })

  it('refuses to start with ERR_CORRUPT when an older segment is damaged, even at its end', async () => {
    await writeJournal()
    const files = await segmentFiles(dir)
    expect(files.length).toBeGreaterThan(2)
    const older = files[0] as string
    await flipByte(older, (await stat(older)).size - 2)
    await expect(create().start()).rejects.toMatchObject({ code: 'ERR_CORRUPT', file: older })
  })

  it('refuses to start with ERR_CORRUPT when a segment is missing or cut short', async () => {
    await writeJournal()
    const files = await segmentFiles(dir)
    await unlink(files[1] as string)
    await expect(create().start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
    await removeDir(dir)
    await writeJournal()
    const fresh = await segmentFiles(dir)
    await truncate(fresh[0] as string, (await stat(fresh[0] as string)).size - 10)
    await expect(create().start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('refuses to start with ERR_CORRUPT when the oldest segments are gone but groups still need them', async () => {
    await writeJournal()
    // Deleting the oldest segment leaves every group starting past index 1 with no compaction
    // record explaining it: acknowledged entries would silently vanish.
    await unlink((await segmentFiles(dir))[0] as string)
    await expect(create().start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('deletes a newest segment that was created but never written', async () => {
    await writeJournal()
    const files = await segmentFiles(dir)
    const next = (files.at(-1) as string).replace(/(\d{20})/, (digits) => String(Number(digits) + 1).padStart(20, '0'))
    await appendBytes(next, Buffer.alloc(0))
    const journal = create()
    await journal.start()
    await expectIntact(journal)
    expect(await segmentFiles(dir)).toEqual(files)
  })
})
