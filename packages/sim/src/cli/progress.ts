/** A one-line progress bar redrawn in place on a terminal. */
export class ProgressBar {
  readonly #write: (text: string) => void
  readonly #total: number
  readonly #width: number
  readonly #started = performance.now()
  #shown = false

  constructor (write: (text: string) => void, total: number, width = 30) {
    this.#write = write
    this.#total = total
    this.#width = width
  }

  update (done: number, failed: number): void {
    const filled = this.#total === 0 ? this.#width : Math.round((done / this.#total) * this.#width)
    const bar = '#'.repeat(filled) + '.'.repeat(this.#width - filled)
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1)
    this.#write(`\r[${bar}] ${done}/${this.#total}  ${failed} failed  ${seconds}s`)
    this.#shown = true
  }

  /** Erases the bar so a result line can be printed in its place. */
  clear (): void {
    if (this.#shown) this.#write('\r\x1b[2K')
    this.#shown = false
  }
}
