import { NotStartedError } from '@synod/interfaces'

/** Tracks whether a component is started; `assert` throws `ERR_NOT_STARTED` otherwise. */
export class Lifecycle {
  started = false

  constructor (private readonly component: string) {}

  assert (): void {
    if (!this.started) throw new NotStartedError(`${this.component} is not started`)
  }
}
