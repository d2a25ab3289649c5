import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { HardState, LogEntry } from '@synod/interfaces'
import { createSharedLog, type SharedLog } from '../../src/index.js'
import { removeDir, tempDir } from '../helpers.js'
import { describeEntries, dump, groupEntries } from './helpers.js'

const GROUPS = 3

type Command =
  | { kind: 'append', group: number, back: number, count: number, newTerm: boolean }
  | { kind: 'truncate', group: number, keep: number }
  | { kind: 'compact', group: number, ahead: number }
  | { kind: 'save', group: number, commit: number }
  | { kind: 'remove', group: number }
  | { kind: 'restart' }

const group = fc.integer({ min: 0, max: GROUPS - 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), group, back: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 12 }), newTerm: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), group, keep: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), group, ahead: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('save' as const), group, commit: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), group }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) }
)

/** What one group should hold. */
interface GroupModel { compactedIndex: number, compactedTerm: number, entries: LogEntry[], term: number, hardState: HardState | undefined }

function freshModel (): GroupModel {
  return { compactedIndex: 0, compactedTerm: 0, entries: [], term: 1, hardState: undefined }
}

async function check (journal: SharedLog, models: GroupModel[]): Promise<void> {
  for (const [id, model] of models.entries()) {
    const log = journal.group(id)
    expect(log.firstIndex()).toBe(model.compactedIndex + 1)
    expect(log.lastIndex()).toBe(model.compactedIndex + model.entries.length)
    expect(log.term(model.compactedIndex)).toBe(model.compactedTerm)
    expect(await dump(log)).toEqual(describeEntries(model.entries))
    expect(await journal.hardState<HardState>(id).load()).toEqual(model.hardState)
  }
}

/** Issues `step` against the journal and applies it to the model at once (the journal validates in call order). */
function issue (journal: SharedLog, models: GroupModel[], step: Exclude<Command, { kind: 'restart' }>): Promise<void> {
  const model = models[step.group] as GroupModel
  const log = journal.group(step.group)
  const lastIndex = model.compactedIndex + model.entries.length
  switch (step.kind) {
    case 'append': {
      const from = Math.max(model.compactedIndex + 1, lastIndex + 1 - step.back)
      if (step.newTerm) model.term++
      const batch = groupEntries(step.group, from, step.count, model.term, 30 + step.count * 7)
      model.entries.splice(from - model.compactedIndex - 1, model.entries.length, ...batch)
      return log.append(batch)
    }
    case 'truncate': {
      const from = model.compactedIndex + 1 + Math.min(step.keep, model.entries.length)
      model.entries.splice(from - model.compactedIndex - 1)
      return log.truncateSuffix(from)
    }
    case 'compact': {
      const upTo = model.compactedIndex + step.ahead
      const term = upTo <= lastIndex ? (model.entries[upTo - model.compactedIndex - 1] as LogEntry).term : model.term
      model.entries.splice(0, Math.min(model.entries.length, upTo - model.compactedIndex))
      model.compactedIndex = upTo
      model.compactedTerm = term
      return log.compactPrefix(upTo, term)
    }
    case 'save': {
      const state = { term: model.term, vote: `n${step.commit % 5}`, commit: step.commit }
      model.hardState = state
      return journal.hardState<HardState>(step.group).save(state)
    }
    case 'remove':
      models[step.group] = freshModel()
      return journal.removeGroup(step.group)
  }
}

/** Runs `commands` in waves of `waveSize` issued together (1: one at a time), restarting where told. */
async function run (commands: Command[], waveSize: number): Promise<void> {
  const dir = await tempDir('synod-journal-model-')
  // Tiny segments: most runs rotate and collect segments many times.
  let journal = createSharedLog({ dir, segmentBytes: 4096, rewriteLagSegments: 2 })
  try {
    await journal.start()
    const models = Array.from({ length: GROUPS }, freshModel)
    let wave: Array<Promise<void>> = []
    for (const step of commands) {
      if (step.kind === 'restart') {
        await Promise.all(wave)
        wave = []
        await journal.stop()
        journal = createSharedLog({ dir, segmentBytes: 4096, rewriteLagSegments: 2 })
        await journal.start()
        await check(journal, models)
        continue
      }
      wave.push(issue(journal, models, step))
      if (wave.length >= waveSize) {
        await Promise.all(wave)
        wave = []
      }
    }
    await Promise.all(wave)
    await check(journal, models)
    await journal.stop()
    journal = createSharedLog({ dir, segmentBytes: 4096, rewriteLagSegments: 2 })
    await journal.start()
    await check(journal, models)
  } finally {
    await journal.stop()
    await removeDir(dir)
  }
}

const runs = Number(process.env.JOURNAL_MODEL_RUNS ?? 40)
const seed = Number(process.env.JOURNAL_MODEL_SEED ?? 20261128)

describe('shared log against a model', () => {
  it('matches the model after random operations on interleaved groups, restarts and garbage collection', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60 }), async (commands) => {
      await run(commands, 1)
    }), { numRuns: runs, seed })
  }, 60_000)

  it('matches the model when operations of all groups are issued together and share syncs', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60 }), fc.integer({ min: 2, max: 8 }), async (commands, waveSize) => {
      await run(commands, waveSize)
    }), { numRuns: runs, seed: seed + 1 })
  }, 60_000)
})
