import type { Clock, TimerHandle } from '@synod/interfaces'

interface Timer { at: number, seq: number, callback: () => void }

/** Lets every pending promise chain run (each setImmediate turn drains the microtask queue). */
export async function flush (turns = 1): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => { setImmediate(resolve) })
}

/** Virtual time: timers fire only when a test advances the clock, in due order. */
export class VirtualClock implements Clock {
  #now = 0
  #seq = 0
  readonly #timers = new Map<number, Timer>()

  now (): number {
    return this.#now
  }

  setTimeout (callback: () => void, ms: number): TimerHandle {
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, callback })
    return id
  }

  clearTimeout (handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }

  get pendingTimers (): number {
    return this.#timers.size
  }

  /** Runs every timer due within `ms`, letting promises settle after each. */
  async advance (ms: number): Promise<void> {
    const target = this.#now + ms
    await flush()
    for (;;) {
      let next: [number, Timer] | undefined
      for (const entry of this.#timers) {
        if (entry[1].at > target) continue
        if (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry
      }
      if (next === undefined) break
      this.#timers.delete(next[0])
      this.#now = Math.max(this.#now, next[1].at)
      next[1].callback()
      await flush()
    }
    this.#now = target
    await flush()
  }

  /** Advances in steps until `condition` holds or `limitMs` passes; returns whether it held. */
  async until (condition: () => boolean, limitMs: number, stepMs = 10): Promise<boolean> {
    const end = this.#now + limitMs
    while (!condition()) {
      if (this.#now >= end) return false
      await this.advance(stepMs)
    }
    return true
  }
}

/** A view of a clock that can jump forward (a leader whose clock leaps, a VM resumed later). */
export class JumpingClock implements Clock {
  readonly #base: Clock
  #offset = 0

  constructor (base: Clock) {
    this.#base = base
  }

  jump (ms: number): void {
    this.#offset += ms
  }

  now (): number {
    return this.#base.now() + this.#offset
  }

  setTimeout (callback: () => void, ms: number): TimerHandle {
    return this.#base.setTimeout(callback, ms)
  }

  clearTimeout (handle: TimerHandle): void {
    this.#base.clearTimeout(handle)
  }
}

/**
 * A client process's view of time that can be paused, like a stop-the-world GC pause: time goes
 * on, but none of its timers run until it resumes.
 */
export class PausableClock implements Clock {
  readonly #base: Clock
  #paused = false
  #deferred: Array<() => void> = []
  readonly #live = new Set<TimerHandle>()

  constructor (base: Clock) {
    this.#base = base
  }

  get paused (): boolean {
    return this.#paused
  }

  pause (): void {
    this.#paused = true
  }

  resume (): void {
    this.#paused = false
    const deferred = this.#deferred
    this.#deferred = []
    for (const callback of deferred) callback()
  }

  now (): number {
    return this.#base.now()
  }

  setTimeout (callback: () => void, ms: number): TimerHandle {
    const handle: { inner: TimerHandle } = { inner: undefined }
    this.#live.add(handle)
    handle.inner = this.#base.setTimeout(() => {
      if (!this.#live.has(handle)) return
      const run = (): void => { if (this.#live.delete(handle)) callback() }
      if (this.#paused) this.#deferred.push(run)
      else run()
    }, ms)
    return handle
  }

  clearTimeout (handle: TimerHandle): void {
    if (!this.#live.delete(handle)) return
    this.#base.clearTimeout((handle as { inner: TimerHandle }).inner)
  }
}
