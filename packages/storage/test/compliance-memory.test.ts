import { hardStateStorageSuite } from '@synod/compliance/hard-state-storage'
import { logStorageSuite } from '@synod/compliance/log-storage'
import { describe } from 'vitest'
import { createMemoryHardStateStorage, createMemoryLogStorage } from '../src/index.js'

describe('memory log storage', () => {
  logStorageSuite({
    setup: async () => createMemoryLogStorage(),
    teardown: async (log) => { await log.stop() }
  })
})

describe('memory hard state storage', () => {
  hardStateStorageSuite({
    setup: async () => createMemoryHardStateStorage(),
    teardown: async (store) => { await store.stop() }
  })
})
