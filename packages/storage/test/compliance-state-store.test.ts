import type { StateStore } from '@synod/interfaces'
import { stateStoreSuite } from '@synod/compliance/state-store'
import { describe } from 'vitest'
import { createLmdbStateStore, createMemoryStateStore } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

const dirs = new WeakMap<object, string>()

describe('memory state store', () => {
  stateStoreSuite({
    setup: async () => createMemoryStateStore(),
    teardown: async (store) => { await store.stop() }
  })
})

describe('lmdb state store', () => {
  stateStoreSuite({
    setup: async () => {
      const dir = await tempDir()
      const store = createLmdbStateStore({ dir, exportChunkBytes: 4096, importBatchSize: 100 })
      dirs.set(store, dir)
      return store
    },
    teardown: async (store: StateStore) => {
      await store.stop()
      await removeDir(dirs.get(store) as string)
    }
  })
})
