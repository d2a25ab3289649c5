import { NotFoundError } from '@synod/interfaces'
import type { AppliedCommand, Clock, Random, SnapshotMeta, SnapshotStorage, SnapshotWriter, StateMachine } from '@synod/interfaces'

/** The real monotonic clock. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}

export function seededRandom (seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (max) => Math.floor(next() * max) }
}

/** A state machine that only counts, so the benchmark measures consensus rather than the application. */
export class CounterStateMachine implements StateMachine<number> {
  count = 0
  apply (_command: AppliedCommand): number { return ++this.count }
  async * snapshot (): AsyncIterable<Uint8Array> { yield new TextEncoder().encode(String(this.count)) }
  async restore (chunks: AsyncIterable<Uint8Array>): Promise<void> {
    let text = ''
    for await (const chunk of chunks) text += new TextDecoder().decode(chunk)
    this.count = Number(text)
  }
}

/** A minimal in-memory SnapshotStorage (the benchmark's snapshots are a few bytes). */
export function memorySnapshots (): SnapshotStorage {
  const installed: Array<{ meta: SnapshotMeta, data: Uint8Array }> = []
  return {
    async start () {},
    async stop () {},
    async latest () { return installed.at(-1)?.meta },
    async begin (meta) {
      const chunks: Uint8Array[] = []
      const writer: SnapshotWriter = {
        meta,
        offset: 0,
        async write (chunk) { chunks.push(chunk) },
        async commit () {
          const size = chunks.reduce((n, c) => n + c.byteLength, 0)
          const data = new Uint8Array(size)
          let offset = 0
          for (const c of chunks) { data.set(c, offset); offset += c.byteLength }
          const full: SnapshotMeta = { ...meta, size, checksum: 'none' }
          installed.push({ meta: full, data })
          return full
        },
        async abort () {}
      }
      return writer
    },
    async * read (options = {}) {
      const found = options.index === undefined ? installed.at(-1) : installed.find((s) => s.meta.index === options.index)
      if (found === undefined) throw new NotFoundError('no snapshot')
      yield found.data.slice(options.offset ?? 0)
    },
    async prune (keep) { installed.splice(0, Math.max(0, installed.length - keep)) }
  }
}

export function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

export function formatRate (n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`
}
