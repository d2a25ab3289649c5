import type { Clock, TimerHandle } from '@synod/interfaces'

/** A `Clock` whose time only moves when told to: the basis of deterministic tests and simulations. */
export interface VirtualClock extends Clock {
  /** Runs every timer due up to `now() + ms`, in time order, then sets the time to `now() + ms`. */
  advance(ms: number): void
  /** Runs timers in time order until none is left (or `limit` have run); returns how many ran. */
  runAll(limit?: number): number
  /** Timers scheduled and not yet run or cleared. */
  readonly pendingTimers: number
}

interface Timer {
  at: number
  seq: number
  callback: (() => void) | undefined
}

/**
 * Creates a virtual clock starting at `startMs`. Timers due at the same time run in the order they
 * were set. A binary heap keeps `setTimeout` and running a timer O(log n).
 */
export function createVirtualClock (startMs = 0): VirtualClock {
  let now = startMs
  let seq = 0
  let pending = 0
  const heap: Timer[] = []

  const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)
  const push = (timer: Timer): void => {
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }
  const pop = (): Timer | undefined => {
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) break
      ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
      i = smallest
    }
    return top
  }
  // Runs the next live timer if it is due by `limit`; false when there is none.
  const runNext = (limit: number): boolean => {
    for (;;) {
      const top = heap[0]
      if (top === undefined || top.at > limit) return false
      pop()
      const callback = top.callback
      if (callback === undefined) continue
      top.callback = undefined
      pending--
      if (top.at > now) now = top.at
      callback()
      return true
    }
  }

  return {
    now: () => now,
    setTimeout (callback: () => void, ms: number): TimerHandle {
      const timer: Timer = { at: now + Math.max(0, ms), seq: seq++, callback }
      pending++
      push(timer)
      return timer
    },
    clearTimeout (handle: TimerHandle): void {
      const timer = handle as Timer | undefined
      if (timer?.callback === undefined) return
      timer.callback = undefined
      pending--
    },
    advance (ms: number): void {
      const target = now + ms
      while (runNext(target));
      now = target
    },
    runAll (limit = Infinity): number {
      let ran = 0
      while (ran < limit && runNext(Infinity)) ran++
      return ran
    },
    get pendingTimers () { return pending }
  }
}
