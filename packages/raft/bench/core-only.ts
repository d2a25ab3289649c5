import type { LogEntry } from '@synod/interfaces'
import { createRaftCore } from '@synod/raft'
import type { RaftCore, RaftMessage } from '@synod/raft'
import { seededRandom } from './support.js'

/** Terms of a node's durable log, enough for the core's synchronous metadata reads. */
class TermLog {
  terms: number[] = []
  firstIndex (): number { return 1 }
  lastIndex (): number { return this.terms.length }
  term (index: number): number | undefined { return index === 0 ? 0 : this.terms[index - 1] }
  append (entries: LogEntry[]): void {
    const first = entries[0]
    if (first === undefined) return
    this.terms.length = first.index - 1
    for (const e of entries) this.terms.push(e.term)
  }
}

/**
 * Three cores wired directly (no driver, no I/O, synchronous delivery): the ceiling the core's
 * own bookkeeping allows. Proposals arrive in batches of `batch` 100-byte entries.
 */
export function benchCoreOnly (durationMs: number, batch: number): { entries: number, seconds: number, cpuSeconds: number } {
  const ids = ['n1', 'n2', 'n3']
  const config = { voters: ids, learners: [], addresses: {} }
  const logs = new Map(ids.map((id) => [id, new TermLog()]))
  const cores = new Map<string, RaftCore>(ids.map((id, i) => [id, createRaftCore({
    id, storage: logs.get(id)!, random: seededRandom(i + 1), snapshot: { index: 0, term: 0, config },
    maxUncommittedBytes: 0, maxInflightMessages: 1024, maxCacheBytes: 8 * 1024 * 1024
  })]))
  const leader = cores.get('n1')!
  let queue: RaftMessage[] = []
  let committed = 0
  const pump = (): void => {
    for (let round = 0; round < 100; round++) {
      for (const [id, core] of cores) {
        while (core.hasReady()) {
          const rd = core.ready()
          queue.push(...rd.earlyMessages)
          logs.get(id)!.append(rd.entries)
          queue.push(...rd.messages)
          if (id === 'n1') committed += rd.committedEntries.length
          for (const f of rd.fetches) core.fetchFailed(f.id, new Error('not kept'))
          core.advance(rd)
        }
      }
      if (queue.length === 0) return
      const batchOfMessages = queue
      queue = []
      for (const m of batchOfMessages) cores.get(m.to)?.step(m)
    }
  }
  leader.campaign()
  pump()
  const payloads = Array.from({ length: batch }, () => new Uint8Array(100))
  const start = performance.now()
  const cpuAtStart = process.cpuUsage()
  const startCommitted = committed
  let ticks = 0
  while (performance.now() - start < durationMs) {
    leader.proposeBatch(payloads)
    pump()
    if (++ticks % 64 === 0) for (const core of cores.values()) core.tick()
  }
  const cpu = process.cpuUsage(cpuAtStart)
  return { entries: committed - startCommitted, seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}
