/**
 * Shared journal benchmark: N groups (1, 16, 64), each with concurrent appenders, writing either
 * through one shared log (`createSharedLog`, one journal for all groups) or through one file log
 * per group (`createFileLogStorage`, each syncing its own segment). Both run in the same process
 * and the same run, alternating, so the ratio is what to read on a noisy machine.
 *
 *   pnpm exec tsx bench/journal.ts
 *   pnpm exec tsx bench/journal.ts --groups=1,16,64 --appenders=4 --seconds=1 --rounds=3 --bytes=100 --recovery=1000000
 *
 * Then it times a restart over `--recovery` entries spread over 64 groups (0 skips it).
 *
 * fdatasync calls are counted by wrapping `FileHandle.prototype.datasync`, which both logs use
 * (the file log runs without preallocation here, so its zero-fill syncs do not count).
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogStorage } from '@synod/interfaces'
import { createFileLogStorage, createSharedLog } from '../src/index.js'

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string]))
const groupCounts = (args.get('groups') ?? '1,16,64').split(',').map(Number)
const appenders = Number(args.get('appenders') ?? 4)
const seconds = Number(args.get('seconds') ?? 1)
const rounds = Number(args.get('rounds') ?? 3)
const entryBytes = Number(args.get('bytes') ?? 100)
const payload = new Uint8Array(entryBytes).fill(0x61)

let datasyncs = 0
async function countDatasyncs (): Promise<void> {
  const probePath = join(tmpdir(), `synod-bench-probe-${process.pid}`)
  const probe = await open(probePath, 'w')
  const prototype = Object.getPrototypeOf(probe) as { datasync: (...rest: unknown[]) => Promise<void> }
  await probe.close()
  await rm(probePath, { force: true })
  const original = prototype.datasync
  prototype.datasync = function (this: unknown, ...rest: unknown[]) {
    datasyncs++
    return original.apply(this, rest)
  }
}

interface Result { appendsPerSecond: number, syncsPerSecond: number }

/** Runs `appenders` loops per group for `seconds`, each appending one entry at a time. */
async function drive (logs: LogStorage[]): Promise<Result> {
  const next = logs.map((log) => log.lastIndex() + 1)
  const syncsBefore = datasyncs
  const started = performance.now()
  const deadline = started + seconds * 1000
  let done = 0
  await Promise.all(logs.flatMap((log, group) => Array.from({ length: appenders }, async () => {
    while (performance.now() < deadline) {
      const index = next[group] as number
      next[group] = index + 1
      await log.append([{ index, term: 1, type: 'command', data: payload }])
      done++
    }
  })))
  const elapsed = (performance.now() - started) / 1000
  return { appendsPerSecond: done / elapsed, syncsPerSecond: (datasyncs - syncsBefore) / elapsed }
}

async function withDir<T> (run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-bench-journal-'))
  try {
    return await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function sharedRun (groups: number): Promise<Result> {
  return await withDir(async (dir) => {
    const journal = createSharedLog({ dir })
    await journal.start()
    try {
      return await drive(Array.from({ length: groups }, (_, id) => journal.group(id)))
    } finally {
      await journal.stop()
    }
  })
}

async function perGroupRun (groups: number): Promise<Result> {
  return await withDir(async (dir) => {
    const logs = Array.from({ length: groups }, (_, id) => createFileLogStorage({ dir: join(dir, `g${id}`), preallocate: false }))
    for (const log of logs) await log.start()
    try {
      return await drive(logs)
    } finally {
      for (const log of logs) await log.stop()
    }
  })
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

await countDatasyncs()
console.log(`shared journal vs a file log per group: ${appenders} appenders per group, ${entryBytes}-byte entries, one entry per append, median of ${rounds} rounds of ${seconds}s`)
console.log(`cores ${availableParallelism()}, load average at start ${loadavg().map((load) => load.toFixed(1)).join(' ')}`)
const rows: string[][] = [['groups', 'per-group logs appends/s', 'fsyncs/s', 'shared journal appends/s', 'fsyncs/s', 'ratio (shared / per-group)']]
for (const groups of groupCounts) {
  const perGroup: Result[] = []
  const shared: Result[] = []
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so neither always runs on a warmer (or busier) machine.
    if (round % 2 === 0) {
      perGroup.push(await perGroupRun(groups))
      shared.push(await sharedRun(groups))
    } else {
      shared.push(await sharedRun(groups))
      perGroup.push(await perGroupRun(groups))
    }
  }
  const perGroupRate = median(perGroup.map((result) => result.appendsPerSecond))
  const sharedRate = median(shared.map((result) => result.appendsPerSecond))
  rows.push([
    String(groups),
    perGroupRate.toFixed(0), median(perGroup.map((result) => result.syncsPerSecond)).toFixed(0),
    sharedRate.toFixed(0), median(shared.map((result) => result.syncsPerSecond)).toFixed(0),
    `${(sharedRate / perGroupRate).toFixed(2)}x`
  ])
}
const widths = (rows[0] as string[]).map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length)))
for (const [i, row] of rows.entries()) {
  console.log(`| ${row.map((cell, column) => cell.padStart(widths[column] as number)).join(' | ')} |`)
  if (i === 0) console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`)
}

/** Writes `entries` entries spread over 64 groups, then times a restart (replay of the journal). */
async function recoveryRun (entries: number): Promise<{ seconds: number, bytes: number, segments: number }> {
  return await withDir(async (dir) => {
    const journal = createSharedLog({ dir })
    await journal.start()
    const groups = 64
    const perBatch = 64
    for (let written = 0; written < entries; written += groups * perBatch) {
      await Promise.all(Array.from({ length: groups }, async (_, id) => {
        const log = journal.group(id)
        const first = log.lastIndex() + 1
        await log.append(Array.from({ length: perBatch }, (_, i) => ({ index: first + i, term: 1, type: 'command' as const, data: payload })))
      }))
    }
    await journal.stop()
    const reopened = createSharedLog({ dir })
    const started = performance.now()
    await reopened.start()
    const seconds = (performance.now() - started) / 1000
    const stats = reopened.stats()
    await reopened.stop()
    return { seconds, bytes: stats.liveEntries * (entryBytes + 13), segments: stats.segments }
  })
}

const recoveryEntries = Number(args.get('recovery') ?? 1_000_000)
if (recoveryEntries > 0) {
  const recovery = await recoveryRun(recoveryEntries)
  console.log(`restart with ${recoveryEntries} entries over 64 groups (${recovery.segments} segments, ${(recovery.bytes / 2 ** 20).toFixed(0)} MiB): start() took ${recovery.seconds.toFixed(2)} s (${(recovery.bytes / 2 ** 20 / recovery.seconds).toFixed(0)} MiB/s)`)
}
console.log(`load average at end ${loadavg().map((load) => load.toFixed(1)).join(' ')}`)
