import { AbortError } from '@synod/interfaces'
import type { EntryType, LogEntry } from '@synod/interfaces'

/** What a pending operation reports back to its node. */
export interface PendingHost {
  forgetDeadline(bucket: number, pending: PendingOperation): void
  succeeded(startedAt: number): void
  failed(): void
}

/**
 * One caller waiting for an entry to be applied (a proposal, a membership change, a read). A class
 * rather than closures: at a million proposals a second, allocation is the cost that matters.
 */
export class PendingOperation {
  /** The ballot round the entry was proposed at; 0 until it is. */
  term = 0
  settled = false
  #onAbort: (() => void) | undefined

  constructor (
    readonly host: PendingHost,
    readonly kind: 'propose' | 'void' | 'index',
    readonly data: Uint8Array,
    /** When the caller started, or -1 if this operation is not timed (latency is sampled). */
    readonly startedAt: number,
    readonly bucket: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: never) => void,
    readonly reject: (error: Error) => void
  ) {
    if (signal !== undefined) {
      this.#onAbort = () => { this.fail(new AbortError('operation aborted', { indeterminate: true, cause: signal.reason })) }
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  #finish (): boolean {
    if (this.settled) return false
    this.settled = true
    this.host.forgetDeadline(this.bucket, this)
    if (this.#onAbort !== undefined) this.signal?.removeEventListener('abort', this.#onAbort)
    return true
  }

  /** The kind of slot this operation waits for: a membership change waits for its config slot. */
  kindOfEntry (): EntryType {
    return this.kind === 'void' ? 'config' : 'command'
  }

  /** The entry was applied with `result`. */
  applied (entry: LogEntry, result: unknown): void {
    if (!this.#finish()) return
    if (this.kind === 'propose') this.host.succeeded(this.startedAt)
    const resolve = this.resolve as (value: unknown) => void
    if (this.kind === 'propose') resolve({ index: entry.index, term: entry.term, result })
    else if (this.kind === 'index') resolve(entry.index)
    else resolve(undefined)
  }

  fail (error: Error): void {
    if (!this.#finish()) return
    if (this.kind === 'propose') this.host.failed()
    this.reject(error)
  }
}
