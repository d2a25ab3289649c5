import { copyFile, open, readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClusterConfig } from '@synod/interfaces'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFileSnapshotStorage } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

const config: ClusterConfig = { voters: ['n1'], learners: [], addresses: { n1: 'a:1' } }

describe('file snapshot storage on disk', () => {
  let dir: string

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => { await removeDir(dir) })

  it('rejects reading a damaged snapshot with ERR_CORRUPT before yielding any data', async () => {
    const store = createFileSnapshotStorage({ dir })
    await store.start()
    const writer = await store.begin({ index: 4, term: 1, config })
    await writer.write(new Uint8Array(100_000).fill(7))
    const meta = await writer.commit()
    expect(meta.checksum).toMatch(/^crc32c:[0-9a-f]{8}$/)
    const dataFile = (await readdir(dir)).find((name) => name.endsWith('.data')) as string
    const handle = await open(join(dir, dataFile), 'r+')
    await handle.write(Buffer.from([0]), 0, 1, 54_321)
    await handle.close()
    let yielded = 0
    const reading = (async () => { for await (const _chunk of store.read()) yielded++ })()
    await expect(reading).rejects.toMatchObject({ code: 'ERR_CORRUPT', file: join(dir, dataFile) })
    expect(yielded).toBe(0)
    await store.stop()
  })

  it('drops data whose commit never wrote its metadata, and leftover temp files', async () => {
    const store = createFileSnapshotStorage({ dir })
    await store.start()
    await store.stop()
    await writeFile(join(dir, `snapshot-${'9'.padStart(20, '0')}-${'1'.padStart(20, '0')}.data`), 'half-installed')
    await writeFile(join(dir, 'whatever.meta.tmp'), 'x')
    await store.start()
    expect(await store.latest()).toBeUndefined()
    expect((await readdir(dir)).filter((name) => name.endsWith('.data') || name.endsWith('.tmp'))).toEqual([])
    await store.stop()
  })

  it('after a crash resumes from the last synced length, discarding bytes written after it', async () => {
    const store = createFileSnapshotStorage({ dir, syncEveryBytes: 10_000 })
    await store.start()
    const writer = await store.begin({ index: 2, term: 1, config })
    await writer.write(new Uint8Array(12_000).fill(1))
    await writer.write(new Uint8Array(3_000).fill(2))
    // Freeze the files as a crash would leave them (the writer never closed), plus torn garbage.
    const crashed = await tempDir()
    try {
      for (const name of (await readdir(dir)).filter((file) => file.includes('.partial'))) await copyFile(join(dir, name), join(crashed, name))
      const partial = (await readdir(crashed)).find((name) => name.endsWith('.partial')) as string
      const handle = await open(join(crashed, partial), 'r+')
      await handle.write(Buffer.alloc(500, 9), 0, 500, 15_000)
      await handle.close()
      const recovered = createFileSnapshotStorage({ dir: crashed })
      await recovered.start()
      const resumed = await recovered.begin({ index: 2, term: 1, config })
      expect(resumed.offset).toBe(12_000)
      await resumed.write(new Uint8Array(1_000).fill(3))
      const meta = await resumed.commit()
      expect(meta.size).toBe(13_000)
      await recovered.stop()
    } finally {
      await removeDir(crashed)
    }
    await expect(createFileSnapshotStorage({ dir }).start()).rejects.toMatchObject({ code: 'ERR_LOCKED' })
    await writer.abort()
    await store.stop()
  })

  it('rejects start when an installed snapshot lost its data', async () => {
    const store = createFileSnapshotStorage({ dir })
    await store.start()
    const writer = await store.begin({ index: 4, term: 1, config })
    await writer.write(new Uint8Array(10))
    await writer.commit()
    await store.stop()
    const dataFile = (await readdir(dir)).find((name) => name.endsWith('.data')) as string
    await unlink(join(dir, dataFile))
    await expect(store.start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })
})
