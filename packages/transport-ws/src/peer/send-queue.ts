/**
 * A bounded per-peer send queue with two lanes. The control lane carries consensus traffic and is
 * always flushed first; the bulk lane carries snapshot chunks and catch-up batches and is flushed
 * under a byte window, so a large transfer never delays a heartbeat by more than that window.
 * Both lanes share one bound on count and bytes: when it is reached, `push` refuses (the caller
 * drops the message and counts it) instead of growing or blocking.
 */
export class SendQueue<M> {
  #control: M[] = []
  #controlSizes: number[] = []
  #controlHead = 0
  #bulk: M[] = []
  #bulkSizes: number[] = []
  #bulkHead = 0
  #count = 0
  #bytes = 0

  constructor (readonly maxCount: number, readonly maxBytes: number) {}

  get count (): number { return this.#count }
  get bytes (): number { return this.#bytes }
  get hasControl (): boolean { return this.#controlHead < this.#control.length }
  get hasBulk (): boolean { return this.#bulkHead < this.#bulk.length }
  get isEmpty (): boolean { return this.#count === 0 }

  /** True when the queue is at or below half of both bounds: the point where 'drain' fires. */
  get belowLowWater (): boolean {
    return this.#count <= this.maxCount / 2 && this.#bytes <= this.maxBytes / 2
  }

  /** Queues `message` (of estimated `size` bytes); false when it does not fit. */
  push (message: M, size: number, bulk: boolean): boolean {
    if (this.#count + 1 > this.maxCount || this.#bytes + size > this.maxBytes) return false
    this.#count++
    this.#bytes += size
    if (bulk) {
      this.#bulk.push(message)
      this.#bulkSizes.push(size)
    } else {
      this.#control.push(message)
      this.#controlSizes.push(size)
    }
    return true
  }

  /**
   * Moves control messages into `into` (after its first element) until about `maxBytes` are taken;
   * always takes at least one. Returns how many were taken.
   */
  takeControl (into: unknown[], maxBytes: number): number {
    let taken = 0
    let bytes = 0
    while (this.#controlHead < this.#control.length && (taken === 0 || bytes < maxBytes)) {
      const size = this.#controlSizes[this.#controlHead] as number
      into.push(this.#control[this.#controlHead])
      bytes += size
      taken++
      this.#controlHead++
    }
    this.#count -= taken
    this.#bytes -= bytes
    if (this.#controlHead === this.#control.length) {
      this.#control = []
      this.#controlSizes = []
      this.#controlHead = 0
    }
    return taken
  }

  /** Removes and returns the oldest bulk message. */
  shiftBulk (): M | undefined {
    if (this.#bulkHead >= this.#bulk.length) return undefined
    const message = this.#bulk[this.#bulkHead] as M
    this.#bulk[this.#bulkHead] = undefined as M
    this.#bytes -= this.#bulkSizes[this.#bulkHead] as number
    this.#count--
    this.#bulkHead++
    if (this.#bulkHead === this.#bulk.length) {
      this.#bulk = []
      this.#bulkSizes = []
      this.#bulkHead = 0
    }
    return message
  }

  clear (): void {
    this.#control = []
    this.#controlSizes = []
    this.#controlHead = 0
    this.#bulk = []
    this.#bulkSizes = []
    this.#bulkHead = 0
    this.#count = 0
    this.#bytes = 0
  }
}
