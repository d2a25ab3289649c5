/**
 * The child of the shared-log crash test: opens the journal in argv[2], reports where each group
 * stands, sometimes compacts or truncates groups, then appends from two concurrent writers per
 * group forever, printing `ack <group> <index>` after each append resolves. The parent kills it
 * with SIGKILL at a random moment.
 */
import type { LogEntry } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import { createSharedLog } from '../../../src/index.js'
import { GROUPS, groupCrashPayload } from './payload.js'

const [dir, seedText, termText] = process.argv.slice(2)
const random = createRandom(Number(seedText))
const term = Number(termText)
const journal = createSharedLog({ dir: dir as string, segmentBytes: 16 * 1024 })
// The parent starts this process early, while it checks the previous run, and says when to go.
await new Promise<void>((resolve) => { process.stdin.once('data', () => { resolve() }) })
await journal.start()

for (let group = 0; group < GROUPS; group++) {
  const log = journal.group(group)
  if (log.lastIndex() - log.firstIndex() > 300 && random.chance(0.7)) {
    const upTo = log.lastIndex() - 100
    process.stdout.write(`compacting ${group} ${upTo}\n`)
    await log.compactPrefix(upTo, log.term(upTo) as number)
  }
  // A follower cutting a conflicting suffix: acknowledged entries at or after `from` may go.
  if (random.chance(0.2) && log.lastIndex() - log.firstIndex() > 50) {
    const from = Math.max(log.firstIndex() + 1, log.lastIndex() - random.int(50))
    process.stdout.write(`truncating ${group} ${from}\n`)
    await log.truncateSuffix(from)
  }
}
process.stdout.write('ready\n')

async function writer (group: number): Promise<void> {
  const log = journal.group(group)
  for (;;) {
    const count = random.intBetween(1, 3)
    const from = next[group] as number
    next[group] = from + count
    const entries: LogEntry[] = []
    for (let i = 0; i < count; i++) entries.push({ index: from + i, term, type: 'command', data: groupCrashPayload(group, from + i, term) })
    await log.append(entries)
    process.stdout.write(`ack ${group} ${from + count - 1}\n`)
  }
}
const next = Array.from({ length: GROUPS }, (_, group) => journal.group(group).lastIndex() + 1)
await Promise.all(Array.from({ length: GROUPS * 2 }, async (_, i) => { await writer(i % GROUPS) }))
