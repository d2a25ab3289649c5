/**
 * The child of the crash test: opens the log in argv[2], reports where it stands, sometimes
 * compacts or truncates, then appends from four concurrent writers forever, printing `ack <index>` after each append resolves. The
 * parent kills it with SIGKILL at a random moment.
 */
import type { LogEntry } from '@synod/interfaces'
import { createRandom } from '@synod/sim'
import { createFileLogStorage } from '../../src/index.js'
import { crashPayload } from './payload.js'

const [dir, seedText, termText] = process.argv.slice(2)
const random = createRandom(Number(seedText))
const term = Number(termText)
// Every other incarnation syncs small commits on the event loop (inlineSyncMaxBytes), so kills land in both paths.
const log = createFileLogStorage({ dir: dir as string, segmentBytes: 16 * 1024, inlineSyncMaxBytes: Number(seedText) % 2 === 0 ? 4096 : 0 })
// The parent starts this process early, while it checks the previous run, and says when to go.
await new Promise<void>((resolve) => { process.stdin.once('data', () => { resolve() }) })
await log.start()
process.stdout.write(`ready ${log.firstIndex()} ${log.lastIndex()}\n`)

if (log.lastIndex() - log.firstIndex() > 800) {
  const upTo = log.lastIndex() - 400
  process.stdout.write(`compacting ${upTo}\n`)
  await log.compactPrefix(upTo, log.term(upTo) as number)
}

// Some runs start by cutting off a suffix (as a follower does on a conflict), so kills also land
// inside truncations: acknowledged entries at or after `from` may then legitimately disappear.
if (random.chance(0.3) && log.lastIndex() - log.firstIndex() > 100) {
  const from = Math.max(log.firstIndex() + 1, log.lastIndex() - random.int(400))
  process.stdout.write(`truncating ${from}\n`)
  await log.truncateSuffix(from)
}

let next = log.lastIndex() + 1
async function writer (): Promise<void> {
  for (;;) {
    const count = random.intBetween(1, 4)
    const entries: LogEntry[] = []
    for (let i = 0; i < count; i++) entries.push({ index: next + i, term, type: 'command', data: crashPayload(next + i, term) })
    next += count
    await log.append(entries)
    process.stdout.write(`ack ${(entries.at(-1) as LogEntry).index}\n`)
  }
}
await Promise.all([writer(), writer(), writer(), writer()])
