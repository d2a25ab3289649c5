import { SynodError } from '@synod/interfaces'

/**
 * The balancer has no endpoint to offer: none was ever added, or all were removed.
 *
 * Defined here rather than in `@synod/interfaces` because only balancer callers meet it; like every
 * Synod error it is matched on `code`, which works across package copies.
 */
export class NoEndpointError extends SynodError {
  static override readonly code = 'ERR_NO_ENDPOINT'
  constructor (message = 'no endpoint available') {
    super(message, NoEndpointError.code)
    this.name = 'NoEndpointError'
  }
}
