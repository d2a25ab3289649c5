/**
 * Compliance suite for {@link LogStorage}: every implementation (memory, file, simulated disk) runs it.
 *
 * @example
 * ```ts
 * import { logStorageSuite } from '@synod/compliance/log-storage'
 * logStorageSuite({ setup: async () => createMyLog(), teardown: async (log) => { await log.stop() } })
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EntryType, LogEntry, LogStorage } from '@synod/interfaces'
import { withCapabilities, type TestSetup } from './index.js'
import { seededRandom } from './internal/seeded-random.js'

/** Optional LogStorage behaviours. */
export interface LogStorageCapabilities {
  /**
   * Stopping and starting the same instance keeps every entry (a file log re-reads its disk).
   * @default true
   */
  restart: boolean
}

const ENTRY_TYPES: EntryType[] = ['command', 'noop', 'config']

/** Builds entries `from..to` (inclusive) in `term`, each with a small payload naming its index. */
export function makeEntries (from: number, to: number, term: number, payloadBytes = 8): LogEntry[] {
  const entries: LogEntry[] = []
  for (let index = from; index <= to; index++) {
    const data = new Uint8Array(payloadBytes)
    for (let i = 0; i < payloadBytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff
    entries.push({ index, term, type: ENTRY_TYPES[index % 3] as EntryType, data })
  }
  return entries
}

/** Entries as plain objects with hex payloads, so comparisons are cheap and diffs readable. */
function plain (entries: LogEntry[]): Array<{ index: number, term: number, type: EntryType, data: string }> {
  return entries.map((entry) => ({ index: entry.index, term: entry.term, type: entry.type, data: Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength).toString('hex') }))
}

/** Registers the LogStorage compliance tests. */
export function logStorageSuite (setup: TestSetup<LogStorage, LogStorageCapabilities>): void {
  const caps = withCapabilities(setup.capabilities, { restart: true })

  describe('LogStorage compliance', () => {
    let log: LogStorage

    beforeEach(async () => {
      log = await setup.setup()
      await log.start()
    })

    afterEach(async () => {
      await setup.teardown(log)
    })

    async function restart (): Promise<void> {
      await log.stop()
      await log.start()
    }

    async function readAll (): Promise<LogEntry[]> {
      return await log.entries(log.firstIndex(), log.lastIndex() + 1)
    }

    describe('a fresh log', () => {
      it('is empty at index 0 with term 0', () => {
        expect(log.firstIndex()).toBe(1)
        expect(log.lastIndex()).toBe(0)
        expect(log.term(0)).toBe(0)
        expect(log.term(1)).toBeUndefined()
      })

      it('returns no entries for an empty range', async () => {
        expect(await log.entries(1, 1)).toEqual([])
      })
    })

    describe('append', () => {
      it('stores entries that read back identically, with their terms in memory', async () => {
        const entries = makeEntries(1, 10, 1)
        await log.append(entries)
        expect(log.lastIndex()).toBe(10)
        expect(log.term(10)).toBe(1)
        expect(plain(await log.entries(1, 11))).toEqual(plain(entries))
        expect(plain(await log.entries(4, 7))).toEqual(plain(entries.slice(3, 6)))
      })

      it('keeps entries of every type, including empty and large payloads', async () => {
        const big = new Uint8Array(96 * 1024).map((_, i) => (i * 13) & 0xff)
        const entries: LogEntry[] = [
          { index: 1, term: 1, type: 'noop', data: new Uint8Array(0) },
          { index: 2, term: 1, type: 'config', data: new TextEncoder().encode('{"voters":["a"]}') },
          { index: 3, term: 2, type: 'command', data: big }
        ]
        await log.append(entries)
        expect(plain(await log.entries(1, 4))).toEqual(plain(entries))
      })

      it('treats an empty batch as a no-op', async () => {
        await log.append([])
        expect(log.lastIndex()).toBe(0)
      })

      it('rejects a gap with ERR_INVALID_ARGUMENT and leaves the log unchanged', async () => {
        await log.append(makeEntries(1, 3, 1))
        await expect(log.append(makeEntries(5, 6, 1))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
        expect(log.lastIndex()).toBe(3)
        await log.append(makeEntries(4, 4, 1))
        expect(log.lastIndex()).toBe(4)
      })

      it('rejects a non-contiguous batch with ERR_INVALID_ARGUMENT and leaves the log unchanged', async () => {
        const batch = [...makeEntries(1, 2, 1), ...makeEntries(4, 4, 1)]
        await expect(log.append(batch)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
        expect(log.lastIndex()).toBe(0)
        expect(await log.entries(1, 1)).toEqual([])
      })

      it('replaces a conflicting suffix in the same step', async () => {
        await log.append(makeEntries(1, 6, 1))
        const replacement = makeEntries(4, 5, 2)
        await log.append(replacement)
        expect(log.lastIndex()).toBe(5)
        expect([1, 2, 3, 4, 5].map((index) => log.term(index))).toEqual([1, 1, 1, 2, 2])
        expect(log.term(6)).toBeUndefined()
        expect(plain(await log.entries(4, 6))).toEqual(plain(replacement))
      })

      it('does not alias caller buffers on the way in or out', async () => {
        const entries = makeEntries(1, 1, 1)
        await log.append(entries)
        ;(entries[0] as LogEntry).data[0] = 0xee
        const [first] = await log.entries(1, 2)
        expect(first?.data[0]).not.toBe(0xee)
        if (first !== undefined) first.data[1] = 0xee
        const [again] = await log.entries(1, 2)
        expect(again?.data[1]).not.toBe(0xee)
      })

      it('applies concurrent appends in call order', async () => {
        const batches = Array.from({ length: 40 }, (_, i) => makeEntries(i * 3 + 1, i * 3 + 3, 1 + Math.floor(i / 10)))
        await Promise.all(batches.map(async (batch) => { await log.append(batch) }))
        expect(log.lastIndex()).toBe(120)
        expect(plain(await readAll())).toEqual(plain(batches.flat()))
      })

      it('orders interleaved appends and truncations as called', async () => {
        const pending = [
          log.append(makeEntries(1, 10, 1)),
          log.truncateSuffix(6),
          log.append(makeEntries(6, 8, 2)),
          log.append(makeEntries(8, 9, 3))
        ]
        await Promise.all(pending)
        expect(log.lastIndex()).toBe(9)
        expect([5, 6, 7, 8, 9].map((index) => log.term(index))).toEqual([1, 2, 2, 3, 3])
      })
    })

    describe('truncateSuffix', () => {
      it('removes every entry at or after the index', async () => {
        await log.append(makeEntries(1, 10, 1))
        await log.truncateSuffix(4)
        expect(log.lastIndex()).toBe(3)
        expect(log.term(4)).toBeUndefined()
        expect((await readAll()).map((entry) => entry.index)).toEqual([1, 2, 3])
        await log.append(makeEntries(4, 5, 2))
        expect(log.term(5)).toBe(2)
      })

      it('does nothing past the last index', async () => {
        await log.append(makeEntries(1, 3, 1))
        await log.truncateSuffix(10)
        expect(log.lastIndex()).toBe(3)
      })

      it('can empty the log', async () => {
        await log.append(makeEntries(1, 3, 1))
        await log.truncateSuffix(1)
        expect(log.lastIndex()).toBe(0)
        expect(log.firstIndex()).toBe(1)
        await log.append(makeEntries(1, 1, 5))
        expect(log.term(1)).toBe(5)
      })
    })

    describe('compactPrefix', () => {
      it('moves firstIndex at once and answers the compacted term', async () => {
        await log.append(makeEntries(1, 10, 2))
        await log.compactPrefix(4, 2)
        expect(log.firstIndex()).toBe(5)
        expect(log.lastIndex()).toBe(10)
        expect(log.term(4)).toBe(2)
        expect(log.term(3)).toBeUndefined()
        expect((await log.entries(5, 11)).map((entry) => entry.index)).toEqual([5, 6, 7, 8, 9, 10])
      })

      it('rejects reads below firstIndex with ERR_COMPACTED', async () => {
        await log.append(makeEntries(1, 10, 1))
        await log.compactPrefix(5, 1)
        await expect(log.entries(3, 8)).rejects.toMatchObject({ code: 'ERR_COMPACTED' })
      })

      it('empties the log when compacting past lastIndex, and appends continue after it', async () => {
        await log.append(makeEntries(1, 5, 1))
        await log.compactPrefix(20, 3)
        expect(log.firstIndex()).toBe(21)
        expect(log.lastIndex()).toBe(20)
        expect(log.term(20)).toBe(3)
        expect(log.term(5)).toBeUndefined()
        await log.append(makeEntries(21, 22, 3))
        expect(log.lastIndex()).toBe(22)
        expect((await readAll()).map((entry) => entry.index)).toEqual([21, 22])
      })

      it('ignores a compaction at or below the compacted index', async () => {
        await log.append(makeEntries(1, 10, 1))
        await log.compactPrefix(6, 1)
        await log.compactPrefix(3, 1)
        expect(log.firstIndex()).toBe(7)
      })

      it('keeps the compacted term answerable after the whole log is truncated', async () => {
        await log.append(makeEntries(1, 10, 4))
        await log.compactPrefix(5, 4)
        await log.truncateSuffix(6)
        expect(log.lastIndex()).toBe(5)
        expect(log.term(5)).toBe(4)
        await log.append(makeEntries(6, 7, 5))
        expect(log.term(7)).toBe(5)
      })
    })

    describe('entries', () => {
      it('stops at maxBytes but always returns at least one entry', async () => {
        await log.append(makeEntries(1, 10, 1, 100))
        expect((await log.entries(1, 11, { maxBytes: 350 })).map((entry) => entry.index)).toEqual([1, 2, 3])
        expect((await log.entries(1, 11, { maxBytes: 10 })).map((entry) => entry.index)).toEqual([1])
        expect(await log.entries(1, 11, { maxBytes: 1_000_000 })).toHaveLength(10)
      })

      it('reads a long log across any internal boundaries', async () => {
        const entries: LogEntry[] = []
        for (let batch = 0; batch < 30; batch++) {
          const batchEntries = makeEntries(batch * 50 + 1, batch * 50 + 50, 1 + batch, 200)
          entries.push(...batchEntries)
          await log.append(batchEntries)
        }
        expect(plain(await log.entries(1, 1501))).toEqual(plain(entries))
        expect(plain(await log.entries(733, 1207))).toEqual(plain(entries.slice(732, 1206)))
        expect(log.term(1500)).toBe(30)
        expect(log.term(51)).toBe(2)
      })
    })

    describe('abort', () => {
      it('rejects every operation with ERR_ABORTED when the signal has already fired, changing nothing', async () => {
        await log.append(makeEntries(1, 5, 1))
        const signal = AbortSignal.abort()
        await expect(log.append(makeEntries(6, 7, 1), { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
        await expect(log.truncateSuffix(2, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
        await expect(log.compactPrefix(3, 1, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
        await expect(log.entries(1, 6, { signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
        expect(log.firstIndex()).toBe(1)
        expect(log.lastIndex()).toBe(5)
        expect(await readAll()).toHaveLength(5)
      })

      it('leaves the log consistent when aborted mid-flight: the append either happened or did not', async () => {
        await log.append(makeEntries(1, 5, 1))
        const controller = new AbortController()
        const pending = log.append(makeEntries(6, 50, 1, 1024), { signal: controller.signal })
        controller.abort()
        const outcome = await pending.then(() => 'done', (error: { code?: string }) => error.code)
        expect(['done', 'ERR_ABORTED']).toContain(outcome)
        await log.append(makeEntries(log.lastIndex() + 1, log.lastIndex() + 1, 1))
        const all = await readAll()
        expect(all.map((entry) => entry.index)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
        expect([6, 51]).toContain(all.length)
      })
    })

    describe('lifecycle', () => {
      it('rejects use before start and after stop with ERR_NOT_STARTED', async () => {
        await log.stop()
        await expect(log.append(makeEntries(1, 1, 1))).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
        await expect(log.entries(1, 1)).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
        await expect(log.truncateSuffix(1)).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
        await expect(log.compactPrefix(1, 1)).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
        await log.start()
      })

      it('treats start and stop as idempotent', async () => {
        await log.start()
        await log.append(makeEntries(1, 2, 1))
        await log.stop()
        await log.stop()
        await log.start()
        await log.start()
        if (caps.restart) expect(log.lastIndex()).toBe(2)
      })

      it.runIf(caps.restart)('keeps entries, truncations and compactions across a restart', async () => {
        await log.append(makeEntries(1, 20, 1))
        await log.append(makeEntries(15, 18, 2))
        await log.compactPrefix(7, 1)
        await restart()
        expect(log.firstIndex()).toBe(8)
        expect(log.lastIndex()).toBe(18)
        expect(log.term(7)).toBe(1)
        expect(log.term(16)).toBe(2)
        expect(plain(await log.entries(8, 19))).toEqual(plain([...makeEntries(8, 14, 1), ...makeEntries(15, 18, 2)]))
      })

      it.runIf(caps.restart)('finishes mutations that were pending when stop was called', async () => {
        const pending = log.append(makeEntries(1, 30, 1))
        await log.stop()
        await pending
        await log.start()
        expect(log.lastIndex()).toBe(30)
      })
    })

    it('matches a simple model over a seeded random sequence of operations', async () => {
      const random = seededRandom(0x5eed)
      let model: LogEntry[] = []
      let compactedIndex = 0
      let compactedTerm = 0
      let term = 1
      for (let step = 0; step < 150; step++) {
        const roll = random()
        const lastIndex = compactedIndex + model.length
        if (roll < 0.6) {
          const from = Math.max(compactedIndex + 1, lastIndex + 1 - Math.floor(random() * 4))
          if (random() < 0.2) term++
          const batch = makeEntries(from, from + Math.floor(random() * 8), term, Math.floor(random() * 300))
          await log.append(batch)
          model = [...model.slice(0, from - compactedIndex - 1), ...batch]
        } else if (roll < 0.75) {
          const from = compactedIndex + 1 + Math.floor(random() * (model.length + 2))
          await log.truncateSuffix(from)
          model = model.slice(0, Math.max(0, from - compactedIndex - 1))
        } else if (roll < 0.85) {
          const upTo = compactedIndex + Math.floor(random() * (model.length + 2))
          if (upTo > compactedIndex) {
            const upToTerm = upTo <= lastIndex ? (model[upTo - compactedIndex - 1] as LogEntry).term : term
            await log.compactPrefix(upTo, upToTerm)
            model = model.slice(Math.min(model.length, upTo - compactedIndex))
            compactedIndex = upTo
            compactedTerm = upToTerm
          }
        } else if (roll < 0.9 && caps.restart) {
          await restart()
        } else if (model.length > 0) {
          const from = compactedIndex + 1 + Math.floor(random() * model.length)
          const to = from + 1 + Math.floor(random() * 10)
          const expected = model.slice(from - compactedIndex - 1, to - compactedIndex - 1)
          expect(plain(await log.entries(from, to))).toEqual(plain(expected))
        }
        expect(log.firstIndex()).toBe(compactedIndex + 1)
        expect(log.lastIndex()).toBe(compactedIndex + model.length)
        expect(log.term(compactedIndex)).toBe(compactedTerm)
        const probe = compactedIndex + 1 + Math.floor(random() * (model.length + 1))
        expect(log.term(probe)).toBe(model[probe - compactedIndex - 1]?.term)
      }
      expect(plain(await readAll())).toEqual(plain(model))
    })
  })
}
