import type { LogStorage } from '@synod/interfaces'
import { hardStateStorageSuite } from '@synod/compliance/hard-state-storage'
import { logStorageSuite } from '@synod/compliance/log-storage'
import { describe } from 'vitest'
import { createFileHardStateStorage, createFileLogStorage } from '../src/index.js'
import { removeDir, tempDir } from './helpers.js'

const dirs = new WeakMap<object, string>()

describe('file log storage', () => {
  logStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const log = createFileLogStorage({ dir, segmentBytes: 64 * 1024 })
      dirs.set(log, dir)
      return log
    },
    teardown: async (log: LogStorage) => {
      await log.stop()
      await removeDir(dirs.get(log) as string)
    }
  })
})

describe('file log storage without preallocation', () => {
  logStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const log = createFileLogStorage({ dir, segmentBytes: 8 * 1024, preallocate: false })
      dirs.set(log, dir)
      return log
    },
    teardown: async (log: LogStorage) => {
      await log.stop()
      await removeDir(dirs.get(log) as string)
    }
  })
})

describe('file hard state storage', () => {
  hardStateStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const store = createFileHardStateStorage({ dir })
      dirs.set(store, dir)
      return store
    },
    teardown: async (store) => {
      await store.stop()
      await removeDir(dirs.get(store) as string)
    }
  })
})
