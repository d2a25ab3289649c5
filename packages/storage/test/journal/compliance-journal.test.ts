import type { LogStorage } from '@synod/interfaces'
import { hardStateStorageSuite } from '@synod/compliance/hard-state-storage'
import { logStorageSuite } from '@synod/compliance/log-storage'
import { describe } from 'vitest'
import { createSharedLog, type SharedLog } from '../../src/index.js'
import { removeDir, tempDir } from '../helpers.js'

const cleanup = new WeakMap<object, () => Promise<void>>()

/**
 * A group view whose stop/start stops and restarts the whole shared log, so the suite's restart
 * tests go through recovery (replaying the journal), with a neighbour group writing into the same
 * journal in between.
 */
function restartingView (journal: SharedLog, id: number): LogStorage {
  const view = journal.group(id)
  const neighbour = journal.group(id + 1)
  return {
    start: async () => {
      await journal.start()
      await view.start()
      await neighbour.start()
      await neighbour.append([{ index: neighbour.lastIndex() + 1, term: 1, type: 'command', data: new Uint8Array([id]) }])
    },
    stop: async () => { await journal.stop() },
    firstIndex: () => view.firstIndex(),
    lastIndex: () => view.lastIndex(),
    term: (index) => view.term(index),
    append: async (entries, options) => { await view.append(entries, options) },
    truncateSuffix: async (from, options) => { await view.truncateSuffix(from, options) },
    compactPrefix: async (upTo, term, options) => { await view.compactPrefix(upTo, term, options) },
    entries: async (from, to, options) => await view.entries(from, to, options)
  }
}

describe('shared log: a group view', () => {
  logStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const journal = createSharedLog({ dir, segmentBytes: 64 * 1024 })
      const log = journal.group(7)
      cleanup.set(log, async () => { await journal.stop(); await removeDir(dir) })
      return log
    },
    teardown: async (log) => { await log.stop(); await cleanup.get(log)?.() }
  })
})

describe('shared log: a group view restarted with its journal (small segments, garbage collected)', () => {
  logStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const journal = createSharedLog({ dir, segmentBytes: 8 * 1024 })
      const log = restartingView(journal, 3)
      cleanup.set(log, async () => { await journal.stop(); await removeDir(dir) })
      return log
    },
    teardown: async (log) => { await log.stop(); await cleanup.get(log)?.() }
  })
})

describe('shared log: a group hard state', () => {
  hardStateStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const journal = createSharedLog({ dir })
      const store = journal.hardState(2)
      cleanup.set(store, async () => { await journal.stop(); await removeDir(dir) })
      return store
    },
    teardown: async (store) => { await store.stop(); await cleanup.get(store)?.() }
  })
})

describe('shared log: a group hard state restarted with its journal', () => {
  hardStateStorageSuite({
    setup: async () => {
      const dir = await tempDir()
      const journal = createSharedLog({ dir })
      const view = journal.hardState(2)
      const store: typeof view = {
        start: async () => { await journal.start(); await view.start() },
        stop: async () => { await journal.stop() },
        load: async (options) => await view.load(options),
        save: async (state, options) => { await view.save(state, options) }
      }
      cleanup.set(store, async () => { await journal.stop(); await removeDir(dir) })
      return store
    },
    teardown: async (store) => { await store.stop(); await cleanup.get(store)?.() }
  })
})
