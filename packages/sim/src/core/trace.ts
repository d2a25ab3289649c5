/** One line of a run's event trace. */
export interface TraceEntry {
  /** Virtual time in milliseconds. */
  time: number
  /** Who it concerns: a node id, `net`, `disk:<node>`, `nemesis`, `sim`, or a workload's own label. */
  source: string
  text: string
}

/** Options for what a simulation keeps of its trace. */
export interface TraceOptions {
  /**
   * Keep every entry (for replays and tests). When false only the last `tail` entries are kept,
   * which is what a many-seed run wants; the digest still covers every entry.
   * @default false
   */
  record?: boolean
  /**
   * How many of the most recent entries to keep when not recording everything.
   * @default 200
   */
  tail?: number
  /** Called for each entry as it happens (e.g. to stream a replay to the terminal). @default none */
  onEntry?: (entry: TraceEntry) => void
}

/**
 * A run's event trace plus a running digest of all of it. Two runs with the same seed produce the
 * same digest; comparing digests is how a run proves it replayed exactly.
 */
export class Trace {
  readonly #record: boolean
  readonly #tail: number
  readonly #onEntry: ((entry: TraceEntry) => void) | undefined
  readonly #entries: TraceEntry[] = []
  #count = 0
  // Two independent 32-bit FNV-1a lanes: a 64-bit digest without BigInt.
  #h1 = 0x811c9dc5
  #h2 = 0x01000193

  constructor (options: TraceOptions = {}) {
    this.#record = options.record ?? false
    this.#tail = options.tail ?? 200
    this.#onEntry = options.onEntry
  }

  add (entry: TraceEntry): void {
    this.#count++
    const line = formatTraceEntry(entry)
    let h1 = this.#h1
    let h2 = this.#h2
    for (let i = 0; i < line.length; i++) {
      const code = line.charCodeAt(i)
      h1 = Math.imul(h1 ^ code, 0x01000193)
      h2 = Math.imul(h2 ^ code, 0x5bd1e995)
    }
    this.#h1 = Math.imul(h1 ^ 10, 0x01000193)
    this.#h2 = Math.imul(h2 ^ 10, 0x5bd1e995)
    this.#entries.push(entry)
    if (!this.#record && this.#entries.length > this.#tail * 2) {
      this.#entries.splice(0, this.#entries.length - this.#tail)
    }
    this.#onEntry?.(entry)
  }

  /** Number of entries ever added. */
  get count (): number {
    return this.#count
  }

  /** Hex digest of every entry so far. */
  digest (): string {
    return (this.#h1 >>> 0).toString(16).padStart(8, '0') + (this.#h2 >>> 0).toString(16).padStart(8, '0')
  }

  /** The kept entries: all of them when recording, otherwise the most recent `tail`. */
  entries (): TraceEntry[] {
    if (this.#record) return this.#entries.slice()
    return this.#tail === 0 ? [] : this.#entries.slice(-this.#tail)
  }

  /** The kept entries as text, one per line. */
  format (): string {
    return this.entries().map(formatTraceEntry).join('\n')
  }
}

/** `[    12.345] n1       text`: fixed-width time and source so a trace reads as columns. */
export function formatTraceEntry (entry: TraceEntry): string {
  return `[${entry.time.toFixed(3).padStart(11)}] ${entry.source.padEnd(8)} ${entry.text}`
}

/**
 * Renders a message for a trace: compact JSON, byte arrays as `<N bytes>`, cut at `max` characters.
 */
export function describeValue (value: unknown, max = 160): string {
  let text: string
  try {
    text = JSON.stringify(value, (_key, inner: unknown) => {
      if (inner instanceof Uint8Array) return `<${inner.byteLength} bytes>`
      if (typeof inner === 'bigint') return `${inner}n`
      return inner
    }) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
