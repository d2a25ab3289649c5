/**
 * Compliance suite for {@link HardStateStorage}: every implementation (memory, file, simulated disk)
 * runs it with Raft's {@link HardState}.
 *
 * @example
 * ```ts
 * import { hardStateStorageSuite } from '@synod/compliance/hard-state-storage'
 * hardStateStorageSuite({ setup: async () => createMyStore(), teardown: async (store) => { await store.stop() } })
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HardState, HardStateStorage } from '@synod/interfaces'
import { withCapabilities, type TestSetup } from './index.js'

/** Optional HardStateStorage behaviours. */
export interface HardStateStorageCapabilities {
  /**
   * Stopping and starting the same instance keeps the saved state (a file store re-reads its disk).
   * @default true
   */
  restart: boolean
}

/** Registers the HardStateStorage compliance tests. */
export function hardStateStorageSuite (setup: TestSetup<HardStateStorage, HardStateStorageCapabilities>): void {
  const caps = withCapabilities(setup.capabilities, { restart: true })

  describe('HardStateStorage compliance', () => {
    let store: HardStateStorage

    beforeEach(async () => {
      store = await setup.setup()
      await store.start()
    })

    afterEach(async () => {
      await setup.teardown(store)
    })

    it('loads undefined before anything was saved', async () => {
      expect(await store.load()).toBeUndefined()
    })

    it('loads what was saved, including a null vote', async () => {
      await store.save({ term: 3, vote: 'n2', commit: 17 })
      expect(await store.load()).toEqual({ term: 3, vote: 'n2', commit: 17 })
      await store.save({ term: 4, vote: null, commit: 17 })
      expect(await store.load()).toEqual({ term: 4, vote: null, commit: 17 })
    })

    it('applies concurrent saves in call order: the last call wins', async () => {
      await Promise.all(Array.from({ length: 20 }, async (_, i) => { await store.save({ term: i, vote: `n${i}`, commit: i }) }))
      expect(await store.load()).toEqual({ term: 19, vote: 'n19', commit: 19 })
    })

    it('does not alias the saved or loaded object', async () => {
      const state: HardState = { term: 1, vote: 'a', commit: 0 }
      await store.save(state)
      state.term = 99
      const loaded = await store.load()
      expect(loaded?.term).toBe(1)
      if (loaded !== undefined) loaded.commit = 42
      expect((await store.load())?.commit).toBe(0)
    })

    it.runIf(caps.restart)('keeps the last saved state across a restart', async () => {
      await store.save({ term: 7, vote: 'n3', commit: 5 })
      await store.save({ term: 8, vote: null, commit: 9 })
      await store.stop()
      await store.start()
      expect(await store.load()).toEqual({ term: 8, vote: null, commit: 9 })
    })

    it('rejects with ERR_ABORTED when the signal has already fired, keeping the previous state', async () => {
      await store.save({ term: 1, vote: null, commit: 0 })
      const signal = AbortSignal.abort()
      await expect(store.save({ term: 2, vote: 'x', commit: 1 }, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      await expect(store.load({ signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(await store.load()).toEqual({ term: 1, vote: null, commit: 0 })
    })

    it('after an abort mid-flight holds either the old or the new state, never a mix', async () => {
      await store.save({ term: 1, vote: null, commit: 0 })
      const controller = new AbortController()
      const pending = store.save({ term: 2, vote: 'x', commit: 1 }, { signal: controller.signal })
      controller.abort()
      const outcome = await pending.then(() => 'done', (error: { code?: string }) => error.code)
      expect(['done', 'ERR_ABORTED']).toContain(outcome)
      await store.save({ term: 3, vote: 'y', commit: 2 })
      expect(await store.load()).toEqual({ term: 3, vote: 'y', commit: 2 })
    })

    it('rejects use after stop with ERR_NOT_STARTED, and start/stop are idempotent', async () => {
      await store.stop()
      await store.stop()
      await expect(store.save({ term: 1, vote: null, commit: 0 })).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
      await expect(store.load()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
      await store.start()
      await store.start()
      await store.save({ term: 1, vote: null, commit: 0 })
      expect(await store.load()).toEqual({ term: 1, vote: null, commit: 0 })
    })
  })
}
