import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRandom } from '@synod/sim'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFileLogStorage } from '../src/index.js'
import { spawnKillableWriter, type KillableWriter, type KillPoint } from './crash/killable.js'
import { crashPayload, firstRecoveryProblem } from './crash/payload.js'
import { removeDir, tempDir } from './helpers.js'

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Independent logs killed in parallel (child start-up time dominates), and kills per log. */
const LANES = 3
const KILLS_PER_LANE = 17

interface ChildRun {
  /** Highest index the child reported as durable. */
  acked: number
  /** Highest compaction point the child started. */
  compactedUpTo: number
  /** Where the child started a truncation, if it did. */
  truncatedFrom: number | undefined
}

/** Spawns a writer of one log that loads its code and then waits for the word to open the log. */
function spawnWriter (script: string, dir: string, seed: number, term: number): KillableWriter<ChildRun> {
  return spawnKillableWriter<ChildRun>(script, [dir, String(seed), String(term)], { acked: 0, compactedUpTo: 0, truncatedFrom: undefined }, ([word, value], run) => {
    if (word === 'compacting') run.compactedUpTo = Number(value)
    if (word === 'truncating') run.truncatedFrom = Number(value)
    if (word !== 'ack') return false
    run.acked = Math.max(run.acked, Number(value))
    return true
  })
}

/** Kills writers on one log directory again and again, checking the log after each kill. */
async function killRepeatedly (script: string, dir: string, seed: number): Promise<{ acked: number, killedAfterAcks: number, truncations: number }> {
  // Seeded, so every run replays the same kill schedule.
  const random = createRandom(seed)
  let acked = 0
  let compactedUpTo = 0
  let killedAfterAcks = 0
  let truncations = 0
  let writer = spawnWriter(script, dir, random.int(2 ** 31), 1)
  for (let term = 1; term <= KILLS_PER_LANE; term++) {
    // Most kills land while appends are in flight; some land during start-up and recovery.
    const killPoint: KillPoint = random.chance(0.85) ? { afterAcks: random.intBetween(1, 80) } : { afterMs: random.int(40) }
    const run = await writer.go(killPoint)
    writer = spawnWriter(script, dir, random.int(2 ** 31), term + 1)
    // A truncation the child started releases the promise for entries at or after its index.
    if (run.truncatedFrom !== undefined) {
      acked = Math.min(acked, run.truncatedFrom - 1)
      truncations++
    }
    acked = Math.max(acked, run.acked)
    compactedUpTo = Math.max(compactedUpTo, run.compactedUpTo)
    if (run.acked > 0) killedAfterAcks++

    const log = createFileLogStorage({ dir, segmentBytes: 16 * 1024, preallocate: false })
    await log.start()
    try {
      expect(log.lastIndex()).toBeGreaterThanOrEqual(acked)
      expect(log.firstIndex() - 1).toBeLessThanOrEqual(compactedUpTo)
      const entries = await log.entries(log.firstIndex(), log.lastIndex() + 1)
      expect(entries).toHaveLength(log.lastIndex() - log.firstIndex() + 1)
      expect(firstRecoveryProblem(log, entries, term, crashPayload)).toBeUndefined()
    } finally {
      await log.stop()
    }
  }
  await writer.discard()
  return { acked, killedAfterAcks, truncations }
}

describe('crash safety under kill -9', () => {
  let script: string
  const dirs: string[] = []

  beforeAll(async () => {
    // The child runs as plain Node: bundle it once so each of the many restarts starts fast.
    const outDir = join(packageRoot, 'node_modules', '.cache', 'synod-storage-test')
    await mkdir(outDir, { recursive: true })
    script = join(outDir, 'crash-writer.mjs')
    await build({
      entryPoints: [join(packageRoot, 'test', 'crash', 'writer.ts')],
      outfile: script,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: join(packageRoot, 'tsconfig.json'),
      external: ['@node-rs/crc32', 'lmdb'],
      logLevel: 'error'
    })
    for (let lane = 0; lane < LANES; lane++) dirs.push(await tempDir('synod-crash-'))
  })

  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir)
  })

  it(`keeps every acknowledged entry intact and in order across ${LANES * KILLS_PER_LANE} SIGKILLs at random points`, async () => {
    const results = await Promise.all(dirs.map(async (dir, lane) => await killRepeatedly(script, dir, 20261128 + lane)))
    // The schedule must actually have killed writers mid-stream, or the test proves nothing.
    for (const result of results) {
      expect(result.killedAfterAcks).toBeGreaterThan(KILLS_PER_LANE / 2)
      expect(result.acked).toBeGreaterThan(100)
    }
    expect(results.reduce((sum, result) => sum + result.truncations, 0)).toBeGreaterThan(0)
  }, 80_000)
})
