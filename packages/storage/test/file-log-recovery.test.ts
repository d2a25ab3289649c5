import { spawn } from 'node:child_process'
import { open, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogEntry, LogStorage } from '@synod/interfaces'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFileHardStateStorage, createFileLogStorage } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

const SEGMENT_BYTES = 4096

function entries (from: number, count: number, term = 1): LogEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    index: from + i,
    term,
    type: 'command' as const,
    data: new Uint8Array(50).fill((from + i) & 0xff)
  }))
}

async function segmentFiles (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.wal')).sort().map((name) => join(dir, name))
}

async function flipByte (path: string, position: number): Promise<void> {
  const handle = await open(path, 'r+')
  const byte = Buffer.alloc(1)
  await handle.read(byte, 0, 1, position)
  byte[0] = (byte[0] as number) ^ 0x5a
  await handle.write(byte, 0, 1, position)
  await handle.close()
}

async function expectCorruptionAt (log: LogStorage, file: string, near: number): Promise<void> {
  const error = await log.start().then(() => undefined, (cause: unknown) => cause as { code?: string, file?: string, offset?: number, message: string })
  expect(error?.code).toBe('ERR_CORRUPT')
  expect(error?.file).toBe(file)
  expect(error?.offset).toBeLessThanOrEqual(near)
  // The damaged frame starts within one frame (9 + 17 + 50 bytes) before the damaged byte.
  expect(error?.offset).toBeGreaterThan(near - 80)
  expect(error?.message).toContain(String(error?.offset))
}

describe('file log recovery', () => {
  let dir: string

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => { await removeDir(dir) })

  /** 40 batches of 5 entries (200 entries, about 4 segments), then one single-entry batch. */
  async function writeLog (preallocate = false): Promise<void> {
    const log = createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES, preallocate })
    await log.start()
    for (let batch = 0; batch < 40; batch++) await log.append(entries(batch * 5 + 1, 5))
    await log.append(entries(201, 1))
    await log.stop()
  }

  async function reopen (): Promise<LogStorage> {
    const log = createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES, preallocate: false })
    await log.start()
    return log
  }

  async function expectIntact (log: LogStorage, lastIndex: number): Promise<void> {
    expect(log.lastIndex()).toBe(lastIndex)
    const read = await log.entries(1, lastIndex + 1)
    expect(read.map((entry) => entry.index)).toEqual(Array.from({ length: lastIndex }, (_, i) => i + 1))
    for (const entry of read) expect(entry.data.every((byte) => byte === (entry.index & 0xff))).toBe(true)
  }

  it('rejects a flipped byte in the middle of an older segment with ERR_CORRUPT naming file and offset', async () => {
    await writeLog()
    const files = await segmentFiles(dir)
    expect(files.length).toBeGreaterThanOrEqual(3)
    const victim = files[1] as string
    const position = Math.floor((await stat(victim)).size / 2)
    await flipByte(victim, position)
    await expectCorruptionAt(createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }), victim, position)
  })

  it('rejects a flipped byte in the newest segment when a later write follows it', async () => {
    await writeLog()
    const victim = (await segmentFiles(dir)).at(-1) as string
    const position = 16 + 40
    await flipByte(victim, position)
    await expectCorruptionAt(createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }), victim, position)
  })

  it('treats damage inside the last write as a torn tail: cut off, everything before intact', async () => {
    await writeLog()
    const last = (await segmentFiles(dir)).at(-1) as string
    await flipByte(last, (await stat(last)).size - 3)
    const log = await reopen()
    await expectIntact(log, 200)
    await log.append(entries(201, 2, 2))
    expect(log.term(202)).toBe(2)
    await log.stop()
    const again = await reopen()
    expect(again.lastIndex()).toBe(202)
    await again.stop()
  })

  it('does not take a write made while an earlier commit was syncing as proof that it was durable', async () => {
    // One entry alone, then 64 concurrent appends: with two syncs allowed in flight they become two
    // commits of 32, the second written while the first was still syncing.
    const frameBytes = 9 + 17 + 50
    const log = createFileLogStorage({ dir, preallocate: false, maxSyncsInFlight: 2 })
    await log.start()
    await log.append(entries(1, 1))
    await Promise.all(Array.from({ length: 64 }, async (_, i) => { await log.append(entries(i + 2, 1)) }))
    await log.stop()
    const [segment] = await segmentFiles(dir)
    const content = await readFile(segment as string)
    const flagged = Array.from({ length: 65 }, (_, i) => i + 1).filter((index) => ((content[16 + (index - 1) * frameBytes + 8] as number) & 0x80) !== 0)
    expect(flagged).toEqual([1, 2])
    // Power loss left entry 10 (in the first commit of 32) damaged while the second commit reached
    // the disk: neither had been acknowledged, so this is a torn tail, not corruption.
    await flipByte(segment as string, 16 + 9 * frameBytes + 40)
    const reopened = await reopen()
    await expectIntact(reopened, 9)
    await reopened.stop()
  })

  it('truncates a record cut in half at the tail', async () => {
    await writeLog()
    const last = (await segmentFiles(dir)).at(-1) as string
    await truncate(last, (await stat(last)).size - 30)
    const log = await reopen()
    await expectIntact(log, 200)
    await log.stop()
  })

  it('truncates unfinished garbage after the last record', async () => {
    await writeLog()
    const last = (await segmentFiles(dir)).at(-1) as string
    const handle = await open(last, 'a')
    await handle.write(Buffer.from('a torn write of some random bytes that never finished'))
    await handle.close()
    const log = await reopen()
    await expectIntact(log, 201)
    await log.stop()
  })

  it('truncates a torn tail inside a preallocated, zero-filled segment', async () => {
    await writeLog(true)
    const last = (await segmentFiles(dir)).at(-1) as string
    const content = await readFile(last)
    // Find the end of the data: the preallocated rest of the file is zero.
    let end = content.length
    while (end > 0 && content[end - 1] === 0) end--
    const handle = await open(last, 'r+')
    await handle.write(Buffer.alloc(20), 0, 20, end - 20)
    await handle.close()
    const log = await reopen()
    await expectIntact(log, 200)
    await log.stop()
  })

  it('rejects a record cut in half inside an older segment', async () => {
    await writeLog()
    const victim = (await segmentFiles(dir))[1] as string
    await truncate(victim, (await stat(victim)).size - 30)
    const error = await createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }).start().then(() => undefined, (cause: unknown) => cause as { code?: string, file?: string })
    expect(error).toMatchObject({ code: 'ERR_CORRUPT', file: victim })
  })

  it('rejects a deleted middle segment, naming the file after the gap', async () => {
    await writeLog()
    const files = await segmentFiles(dir)
    await unlink(files[1] as string)
    const error = await createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }).start().then(() => undefined, (cause: unknown) => cause as { code?: string, file?: string })
    expect(error).toMatchObject({ code: 'ERR_CORRUPT', file: files[2] })
  })

  it('leaves no lock behind when it refuses to start, so the next start names the corruption again', async () => {
    await writeLog()
    const files = await segmentFiles(dir)
    await unlink(files[1] as string)
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }).start().then(() => undefined, (cause: unknown) => cause as { code?: string })
      expect(error).toMatchObject({ code: 'ERR_CORRUPT' })
    }
  })

  it('rejects a deleted first segment when no compaction covers it', async () => {
    await writeLog()
    const files = await segmentFiles(dir)
    await unlink(files[0] as string)
    const error = await createFileLogStorage({ dir, segmentBytes: SEGMENT_BYTES }).start().then(() => undefined, (cause: unknown) => cause as { code?: string, file?: string })
    expect(error).toMatchObject({ code: 'ERR_CORRUPT', file: files[1] })
  })

  it('finishes a compaction whose segment removal was interrupted', async () => {
    await writeLog()
    const before = await segmentFiles(dir)
    const saved = await Promise.all(before.map(async (file) => await readFile(file)))
    const log = await reopen()
    await log.compactPrefix(150, 1)
    await log.stop()
    const after = await segmentFiles(dir)
    expect(after.length).toBeLessThan(before.length)
    // Put back the removed segments, as if the crash came before the unlinks reached the disk.
    for (const [i, file] of before.entries()) if (!after.includes(file)) await writeFile(file, saved[i] as Buffer)
    const again = await reopen()
    expect(await segmentFiles(dir)).toEqual(after)
    expect(again.firstIndex()).toBe(151)
    expect(again.term(150)).toBe(1)
    expect((await again.entries(151, 202)).length).toBe(51)
    await again.stop()
  })

  it('drops a newest segment that was created but never written', async () => {
    await writeLog()
    await writeFile(join(dir, `${String(202).padStart(20, '0')}.wal`), Buffer.alloc(4096))
    const log = await reopen()
    expect(log.lastIndex()).toBe(201)
    await log.append(entries(202, 3))
    await log.stop()
    const again = await reopen()
    await expectIntact(again, 204)
    await again.stop()
  })

  it('refuses a second open of the same directory in this process with ERR_LOCKED', async () => {
    const first = createFileLogStorage({ dir })
    await first.start()
    await expect(createFileLogStorage({ dir }).start()).rejects.toMatchObject({ code: 'ERR_LOCKED' })
    await first.stop()
    const second = createFileLogStorage({ dir })
    await second.start()
    await second.stop()
  })

  it('refuses a directory locked by another live process, and takes over once it is gone', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    const startTime = (await readFile(`/proc/${other.pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ')[19] ?? '-'
    await writeFile(join(dir, 'wal.lock'), `${other.pid} ${startTime}\n`)
    await expect(createFileLogStorage({ dir }).start()).rejects.toMatchObject({ code: 'ERR_LOCKED' })
    const exited = new Promise((resolve) => other.on('exit', resolve))
    other.kill('SIGKILL')
    await exited
    const log = createFileLogStorage({ dir })
    await log.start()
    await log.stop()
  })

  it('rejects a damaged hard state record with ERR_CORRUPT', async () => {
    const store = createFileHardStateStorage({ dir })
    await store.start()
    await store.save({ term: 5, vote: 'n1', commit: 3 })
    await store.stop()
    await flipByte(join(dir, 'hard-state.json'), 20)
    await expect(createFileHardStateStorage({ dir }).start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('ignores a half-written temp file of the hard state', async () => {
    const store = createFileHardStateStorage({ dir })
    await store.start()
    await store.save({ term: 5, vote: 'n1', commit: 3 })
    await store.stop()
    await writeFile(join(dir, 'hard-state.json.tmp'), 'crc32c:000')
    await store.start()
    expect(await store.load()).toEqual({ term: 5, vote: 'n1', commit: 3 })
    await store.stop()
  })
})

describe('file log segment ends', () => {
  it('accepts a preallocated segment whose zero tail is shorter than a frame header', async () => {
    const dir = await tempDir()
    try {
      // 16 header bytes + 86-byte frames (9 + 17 + 60): fill a 4096-byte segment to 6 bytes short.
      const log = createFileLogStorage({ dir, segmentBytes: 4096 })
      await log.start()
      const frame = 9 + 17
      const data = (size: number): Uint8Array => new Uint8Array(size).fill(1)
      let index = 1
      let used = 16
      while (4096 - used - (frame + 60) >= frame + 1) {
        await log.append([{ index: index++, term: 1, type: 'command', data: data(60) }])
        used += frame + 60
      }
      const last = 4096 - used - 6 - frame
      await log.append([{ index: index++, term: 1, type: 'command', data: data(last) }])
      await log.append([{ index: index++, term: 1, type: 'command', data: data(10) }])
      await log.stop()
      const segments = (await readdir(dir)).filter((name) => name.endsWith('.wal')).sort()
      expect(segments.length).toBe(2)
      // Give the first segment the zero tail a preallocated file would have.
      const first = join(dir, segments[0] as string)
      expect((await stat(first)).size).toBe(4090)
      await truncate(first, 4096)
      const reopened = createFileLogStorage({ dir, segmentBytes: 4096 })
      await reopened.start()
      expect(reopened.lastIndex()).toBe(index - 1)
      await reopened.stop()
    } finally {
      await removeDir(dir)
    }
  })
})
