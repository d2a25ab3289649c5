import type { EntryType, LogEntry } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import { describe, expect, it } from 'vitest'
import { createMemoryLogStorage } from '../src/index.js'

// The memory log packs entry bytes into shared arenas (16 KiB, doubling to 1 MiB) and metadata
// into blocks of 1024 entries. The compliance suite's logs stay small; these runs are long enough
// to cross block and arena boundaries, truncate back into older arenas and compact whole blocks.

const TYPES: EntryType[] = ['command', 'noop', 'config']

function seededRandom (seed: number): () => number {
  const random = createRandom(seed)
  return () => random.next()
}

function entry (index: number, term: number, size: number): LogEntry {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (index * 13 + term * 5 + i) & 0xff
  return { index, term, type: TYPES[(index + term) % 3] as EntryType, data }
}

function hex (entries: readonly LogEntry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('hex')}`)
}

describe('memory log storage internals', () => {
  it.each([true, false])('matches a model over long seeded runs across blocks, arenas, truncations and compactions (copy: %s)', async (copy) => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed)
      const log = createMemoryLogStorage({ copy })
      await log.start()
      let model: LogEntry[] = []
      let compacted = 0
      let compactedTerm = 0
      let term = 1
      for (let step = 0; step < 400; step++) {
        const roll = random()
        const last = compacted + model.length
        if (roll < 0.7) {
          // Mostly appends at the end, sometimes overwriting a suffix; sizes from empty to 40 KiB.
          const from = random() < 0.8 ? last + 1 : Math.max(compacted + 1, last + 1 - Math.floor(random() * 600))
          if (from <= last) term++
          const big = random() < 0.05
          const count = big ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 300)
          const batch = Array.from({ length: count }, (_, i) => entry(from + i, term, big ? 20_000 + Math.floor(random() * 20_000) : Math.floor(random() * 200)))
          await log.append(batch)
          model = [...model.slice(0, from - compacted - 1), ...batch]
        } else if (roll < 0.8) {
          const from = compacted + 1 + Math.floor(random() * (model.length + 1))
          await log.truncateSuffix(from)
          model = model.slice(0, from - compacted - 1)
        } else if (roll < 0.9 && model.length > 0) {
          const upTo = compacted + 1 + Math.floor(random() * model.length)
          const upToTerm = (model[upTo - compacted - 1] as LogEntry).term
          await log.compactPrefix(upTo, upToTerm)
          model = model.slice(upTo - compacted)
          compacted = upTo
          compactedTerm = upToTerm
        } else {
          const from = compacted + 1 + Math.floor(random() * (model.length + 1))
          const to = from + Math.floor(random() * 1500)
          const maxBytes = random() < 0.5 ? Infinity : Math.floor(random() * 50_000)
          const got = await log.entries(from, to, { maxBytes })
          const expected: LogEntry[] = []
          let bytes = 0
          for (const e of model.slice(from - compacted - 1, to - compacted - 1)) {
            bytes += e.data.byteLength
            if (expected.length > 0 && bytes > maxBytes) break
            expected.push(e)
          }
          expect(hex(got)).toEqual(hex(expected))
        }
        expect(log.firstIndex()).toBe(compacted + 1)
        expect(log.lastIndex()).toBe(compacted + model.length)
        expect(log.term(compacted)).toBe(compactedTerm)
        const probe = compacted + 1 + Math.floor(random() * (model.length + 1))
        expect(log.term(probe)).toBe(model[probe - compacted - 1]?.term)
      }
      expect(hex(await log.entries(log.firstIndex(), log.lastIndex() + 1))).toEqual(hex(model))
      await log.stop()
    }
  })

  it('copies bytes in: a caller reusing its buffer for the next entry does not change stored ones', async () => {
    const log = createMemoryLogStorage()
    await log.start()
    const buffer = new Uint8Array(100)
    for (let index = 1; index <= 3000; index++) {
      buffer.fill(index & 0xff)
      await log.append([{ index, term: 1, type: 'command', data: buffer }])
    }
    const all = await log.entries(1, 3001)
    expect(all.every((e) => e.data.length === 100 && e.data.every((byte) => byte === (e.index & 0xff)))).toBe(true)
  })

  it('with copy: false, keeps and hands back the caller\'s entry objects', async () => {
    const log = createMemoryLogStorage({ copy: false })
    await log.start()
    const entries = [entry(1, 1, 10), entry(2, 1, 10)]
    await log.append(entries)
    const read = await log.entries(1, 3)
    expect(read[0]).toBe(entries[0])
    expect(read[1]).toBe(entries[1])
  })
})
