/** What an event is, so the loop can tell activity (messages, disk) from timers when it waits for quiet. */
export type EventKind = 'timer' | 'message' | 'disk' | 'nemesis' | 'task'

/** One scheduled event. Ordered by time, then by scheduling order, which makes the run deterministic. */
export interface ScheduledEvent {
  readonly time: number
  readonly seq: number
  readonly kind: EventKind
  readonly run: () => void
  cancelled: boolean
}

/** A binary min-heap of events keyed by (time, seq). */
export class EventQueue {
  readonly #heap: ScheduledEvent[] = []
  /** Live (not cancelled) events that are not timers. */
  #activity = 0
  #live = 0

  get size (): number {
    return this.#live
  }

  /** Pending non-timer events (messages in flight, disk syncs, tasks, nemesis steps). */
  get activity (): number {
    return this.#activity
  }

  push (event: ScheduledEvent): void {
    this.#heap.push(event)
    this.#live++
    if (event.kind !== 'timer') this.#activity++
    this.#siftUp(this.#heap.length - 1)
  }

  cancel (event: ScheduledEvent): void {
    if (event.cancelled) return
    event.cancelled = true
    this.#live--
    if (event.kind !== 'timer') this.#activity--
  }

  /** The earliest live event, without removing it. */
  peek (): ScheduledEvent | undefined {
    this.#dropCancelled()
    return this.#heap[0]
  }

  /** Removes and returns the earliest live event. */
  pop (): ScheduledEvent | undefined {
    this.#dropCancelled()
    const top = this.#removeTop()
    if (top !== undefined) {
      // Marked so that cancelling an event that already ran is a no-op.
      top.cancelled = true
      this.#live--
      if (top.kind !== 'timer') this.#activity--
    }
    return top
  }

  /** Cancels everything. */
  clear (): void {
    for (const event of this.#heap) event.cancelled = true
    this.#heap.length = 0
    this.#live = 0
    this.#activity = 0
  }

  #dropCancelled (): void {
    while (this.#heap.length > 0 && (this.#heap[0] as ScheduledEvent).cancelled) this.#removeTop()
  }

  #removeTop (): ScheduledEvent | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      this.#siftDown(0)
    }
    return top
  }

  #less (a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq)
  }

  #siftUp (index: number): void {
    const heap = this.#heap
    const item = heap[index] as ScheduledEvent
    while (index > 0) {
      const parent = (index - 1) >> 1
      const parentItem = heap[parent] as ScheduledEvent
      if (!this.#less(item, parentItem)) break
      heap[index] = parentItem
      index = parent
    }
    heap[index] = item
  }

  #siftDown (index: number): void {
    const heap = this.#heap
    const length = heap.length
    const item = heap[index] as ScheduledEvent
    for (;;) {
      const left = 2 * index + 1
      if (left >= length) break
      const right = left + 1
      let child = left
      if (right < length && this.#less(heap[right] as ScheduledEvent, heap[left] as ScheduledEvent)) child = right
      const childItem = heap[child] as ScheduledEvent
      if (!this.#less(childItem, item)) break
      heap[index] = childItem
      index = child
    }
    heap[index] = item
  }
}
