import { InvalidArgumentError } from '@synod/interfaces'

/**
 * A history could not be read: bad JSON, or an operation with a missing or ill-typed field.
 * Its `code` is `ERR_INVALID_ARGUMENT`; `index` is the position of the bad operation in the array
 * (undefined when the problem is the document as a whole) and `field` names the bad field.
 */
export class MalformedHistoryError extends InvalidArgumentError {
  readonly index: number | undefined

  constructor (message: string, init: { index?: number | undefined, field?: string | undefined } = {}) {
    super(message, init.field === undefined ? {} : { field: init.field })
    this.name = 'MalformedHistoryError'
    this.index = init.index
  }
}
