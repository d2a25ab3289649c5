import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRandom } from '@synod/sim'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSharedLog } from '../../src/index.js'
import { spawnKillableWriter, type KillableWriter } from '../crash/killable.js'
import { firstRecoveryProblem } from '../crash/payload.js'
import { removeDir, tempDir } from '../helpers.js'
import { GROUPS, groupCrashPayload } from './crash/payload.js'

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const KILLS = 16

interface ChildRun {
  /** Highest index per group the child reported as durable. */
  acked: number[]
  /** Where the child started a truncation, per group. */
  truncatedFrom: Array<number | undefined>
}

function spawnWriter (script: string, dir: string, seed: number, term: number): KillableWriter<ChildRun> {
  const initial: ChildRun = { acked: Array.from({ length: GROUPS }, () => 0), truncatedFrom: Array.from({ length: GROUPS }, () => undefined) }
  return spawnKillableWriter<ChildRun>(script, [dir, String(seed), String(term)], initial, ([word, group, value], run) => {
    if (word === 'truncating') run.truncatedFrom[Number(group)] = Number(value)
    if (word !== 'ack') return false
    run.acked[Number(group)] = Math.max(run.acked[Number(group)] as number, Number(value))
    return true
  })
}

describe('shared log crash safety under kill -9', () => {
  let script: string
  let dir: string

  beforeAll(async () => {
    // The child runs as plain Node: bundle it once so each restart starts fast.
    const outDir = join(packageRoot, 'node_modules', '.cache', 'synod-storage-test')
    await mkdir(outDir, { recursive: true })
    script = join(outDir, 'journal-crash-writer.mjs')
    await build({
      entryPoints: [join(packageRoot, 'test', 'journal', 'crash', 'writer.ts')],
      outfile: script,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: join(packageRoot, 'tsconfig.json'),
      external: ['@node-rs/crc32', 'lmdb'],
      logLevel: 'error'
    })
    dir = await tempDir('synod-journal-crash-')
  })

  afterAll(async () => { if (process.env.KEEP_JOURNAL === undefined) await removeDir(dir); else console.log('kept', dir) })

  it(`keeps every group's acknowledged entries intact and in order across ${KILLS} SIGKILLs`, async () => {
    const random = createRandom(Number(process.env.JOURNAL_CRASH_SEED ?? 20261128))
    const acked = Array.from({ length: GROUPS }, () => 0)
    let killedAfterAcks = 0
    let writer = spawnWriter(script, dir, random.int(2 ** 31), 1)
    for (let term = 1; term <= KILLS; term++) {
      const killPoint = random.chance(0.85) ? { afterAcks: random.intBetween(1, 300) } : { afterMs: random.int(40) }
      const run = await writer.go(killPoint)
      writer = spawnWriter(script, dir, random.int(2 ** 31), term + 1)
      if (run.acked.some((value) => value > 0)) killedAfterAcks++
      const journal = createSharedLog({ dir, segmentBytes: 16 * 1024 })
      await journal.start()
      try {
        for (let group = 0; group < GROUPS; group++) {
          const truncatedFrom = run.truncatedFrom[group]
          if (truncatedFrom !== undefined) acked[group] = Math.min(acked[group] as number, truncatedFrom - 1)
          acked[group] = Math.max(acked[group] as number, run.acked[group] as number)
          const log = journal.group(group)
          expect(log.lastIndex()).toBeGreaterThanOrEqual(acked[group] as number)
          const entries = await log.entries(log.firstIndex(), log.lastIndex() + 1)
          expect(entries).toHaveLength(log.lastIndex() - log.firstIndex() + 1)
          const problem = firstRecoveryProblem(log, entries, term, (index, entryTerm) => groupCrashPayload(group, index, entryTerm))
          expect(problem === undefined ? undefined : `group ${group}: ${problem}`).toBeUndefined()
        }
      } finally {
        await journal.stop()
      }
    }
    await writer.discard()
    expect(killedAfterAcks).toBeGreaterThan(KILLS / 2)
    expect(Math.min(...acked)).toBeGreaterThan(100)
  }, 60_000)
})
