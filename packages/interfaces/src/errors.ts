/**
 * Typed errors shared by every Synod package.
 *
 * Every error has a stable `code` (also available as the static `code` of its class) and a `name`.
 * Callers and tests match on `code`, never on `instanceof`: two copies of this package in one
 * process must still agree on what an error means.
 */

/** Base class of every Synod error. */
export class SynodError extends Error {
  static readonly code: string = 'ERR_SYNOD'
  readonly code: string

  constructor (message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'SynodError'
  }
}

/** The operation needs the leader and this node is not it. `leaderHint` names the leader if known. */
export class NotLeaderError extends SynodError {
  static override readonly code = 'ERR_NOT_LEADER'
  readonly leaderHint: string | undefined
  readonly term: number | undefined

  constructor (message = 'not the leader', init: { leaderHint?: string | undefined, term?: number | undefined } = {}) {
    super(message, NotLeaderError.code)
    this.name = 'NotLeaderError'
    this.leaderHint = init.leaderHint
    this.term = init.term
  }
}

/** An operation did not finish within its deadline. Its outcome may be unknown (see `indeterminate`). */
export class TimeoutError extends SynodError {
  static override readonly code = 'ERR_TIMEOUT'
  /** True when the operation may still take effect later (e.g. a proposal that reached the log). */
  readonly indeterminate: boolean

  constructor (message = 'operation timed out', init: { indeterminate?: boolean } = {}) {
    super(message, TimeoutError.code)
    this.name = 'TimeoutError'
    this.indeterminate = init.indeterminate ?? false
  }
}

/** The caller's AbortSignal fired. Like a timeout, the operation may already have taken effect. */
export class AbortError extends SynodError {
  static override readonly code = 'ERR_ABORTED'
  readonly indeterminate: boolean

  constructor (message = 'operation aborted', init: { indeterminate?: boolean, cause?: unknown } = {}) {
    super(message, AbortError.code, { cause: init.cause })
    this.name = 'AbortError'
    this.indeterminate = init.indeterminate ?? false
  }
}

/** Durable data failed verification. Names the file and byte offset where it was found. */
export class CorruptionError extends SynodError {
  static override readonly code = 'ERR_CORRUPT'
  readonly file: string | undefined
  readonly offset: number | undefined

  constructor (message: string, init: { file?: string | undefined, offset?: number | undefined, cause?: unknown } = {}) {
    super(message, CorruptionError.code, { cause: init.cause })
    this.name = 'CorruptionError'
    this.file = init.file
    this.offset = init.offset
  }
}

/** A frame or message from the network could not be decoded or has the wrong shape. */
export class BadFrameError extends SynodError {
  static override readonly code = 'ERR_BAD_FRAME'
  constructor (message = 'bad frame', options?: { cause?: unknown }) {
    super(message, BadFrameError.code, options)
    this.name = 'BadFrameError'
  }
}

/** A peer or client failed authentication (wrong secret, wrong cluster id, missing token). */
export class UnauthorizedError extends SynodError {
  static override readonly code = 'ERR_UNAUTHORIZED'
  constructor (message = 'unauthorized') {
    super(message, UnauthorizedError.code)
    this.name = 'UnauthorizedError'
  }
}

/** A message was addressed to a node id this component does not know. */
export class UnknownPeerError extends SynodError {
  static override readonly code = 'ERR_UNKNOWN_PEER'
  readonly peer: string
  constructor (peer: string, message = `unknown peer ${peer}`) {
    super(message, UnknownPeerError.code)
    this.name = 'UnknownPeerError'
    this.peer = peer
  }
}

/** A request, frame or entry exceeds a configured size limit. */
export class TooLargeError extends SynodError {
  static override readonly code = 'ERR_TOO_LARGE'
  readonly size: number
  readonly limit: number
  constructor (size: number, limit: number, message = `size ${size} exceeds limit ${limit}`) {
    super(message, TooLargeError.code)
    this.name = 'TooLargeError'
    this.size = size
    this.limit = limit
  }
}

/** An argument or configuration is invalid. `field` names it where one field is at fault. */
export class InvalidArgumentError extends SynodError {
  static override readonly code = 'ERR_INVALID_ARGUMENT'
  readonly field: string | undefined
  constructor (message: string, init: { field?: string } = {}) {
    super(message, InvalidArgumentError.code)
    this.name = 'InvalidArgumentError'
    this.field = init.field
  }
}

/** A membership change was rejected because it is unsafe (e.g. a change while another is pending). */
export class InvalidMembershipError extends SynodError {
  static override readonly code = 'ERR_INVALID_MEMBERSHIP'
  constructor (message: string) {
    super(message, InvalidMembershipError.code)
    this.name = 'InvalidMembershipError'
  }
}

/** A component was used before `start()` or after `stop()`. */
export class NotStartedError extends SynodError {
  static override readonly code = 'ERR_NOT_STARTED'
  constructor (message = 'component is not started') {
    super(message, NotStartedError.code)
    this.name = 'NotStartedError'
  }
}

/** The node stopped while the operation was in flight. The outcome may be unknown. */
export class StoppedError extends SynodError {
  static override readonly code = 'ERR_STOPPED'
  constructor (message = 'component stopped') {
    super(message, StoppedError.code)
    this.name = 'StoppedError'
  }
}

/** A proposal was dropped without entering the log (leadership transfer, lost leadership, ...). */
export class ProposalDroppedError extends SynodError {
  static override readonly code = 'ERR_PROPOSAL_DROPPED'
  constructor (message = 'proposal dropped') {
    super(message, ProposalDroppedError.code)
    this.name = 'ProposalDroppedError'
  }
}

/** Too many operations are pending (uncommitted proposals, send queue, in-flight requests). */
export class OverloadedError extends SynodError {
  static override readonly code = 'ERR_OVERLOADED'
  constructor (message = 'too many pending operations') {
    super(message, OverloadedError.code)
    this.name = 'OverloadedError'
  }
}

/** Requested log entries were compacted away; a snapshot is needed instead. */
export class CompactedError extends SynodError {
  static override readonly code = 'ERR_COMPACTED'
  readonly firstIndex: number
  constructor (requested: number, firstIndex: number) {
    super(`index ${requested} is compacted; first available index is ${firstIndex}`, CompactedError.code)
    this.name = 'CompactedError'
    this.firstIndex = firstIndex
  }
}

/** A data directory or resource is already in use by another process or instance. */
export class ResourceLockedError extends SynodError {
  static override readonly code = 'ERR_LOCKED'
  readonly resource: string
  constructor (resource: string, message = `${resource} is locked by another process`) {
    super(message, ResourceLockedError.code)
    this.name = 'ResourceLockedError'
    this.resource = resource
  }
}

/** Something that should exist does not (snapshot, key, session). */
export class NotFoundError extends SynodError {
  static override readonly code = 'ERR_NOT_FOUND'
  constructor (message = 'not found') {
    super(message, NotFoundError.code)
    this.name = 'NotFoundError'
  }
}

/** A lock could not be acquired before its deadline. */
export class LockTimeoutError extends SynodError {
  static override readonly code = 'ERR_LOCK_TIMEOUT'
  constructor (message = 'lock not acquired before timeout') {
    super(message, LockTimeoutError.code)
    this.name = 'LockTimeoutError'
  }
}

/** The client's lock session expired; every lock held by it is lost. */
export class SessionExpiredError extends SynodError {
  static override readonly code = 'ERR_SESSION_EXPIRED'
  constructor (message = 'session expired') {
    super(message, SessionExpiredError.code)
    this.name = 'SessionExpiredError'
  }
}

/** The caller tried to use or release a lock it does not hold. */
export class NotHeldError extends SynodError {
  static override readonly code = 'ERR_NOT_HELD'
  constructor (message = 'lock not held') {
    super(message, NotHeldError.code)
    this.name = 'NotHeldError'
  }
}

/** True when `error` is a Synod error, optionally with the given `code`. Works across package copies. */
export function isSynodError (error: unknown, code?: string): error is SynodError {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as { code?: unknown }
  if (typeof candidate.code !== 'string' || !candidate.code.startsWith('ERR_')) return false
  return code === undefined || candidate.code === code
}
