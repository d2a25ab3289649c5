import type { SnapshotStorage } from '@synod/interfaces'
import { snapshotStorageSuite } from '@synod/compliance/snapshot-storage'
import { describe } from 'vitest'
import { createFileSnapshotStorage, createMemorySnapshotStorage } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

const dirs = new WeakMap<object, string>()

describe('memory snapshot storage', () => {
  snapshotStorageSuite({
    setup: async () => createMemorySnapshotStorage(),
    teardown: async (store) => { await store.stop() }
  })
})

describe('file snapshot storage', () => {
  snapshotStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const store = createFileSnapshotStorage({ dir, syncEveryBytes: 16 * 1024 })
      dirs.set(store, dir)
      return store
    },
    teardown: async (store: SnapshotStorage) => {
      await store.stop()
      await removeDir(dirs.get(store) as string)
    }
  })
})
