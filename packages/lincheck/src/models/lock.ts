import type { HistoryOp } from '../history/format.js'
import type { JsonValue } from '../history/json.js'
import type { Model } from './model.js'

/**
 * The state of one lock. `holder` is the client holding it (`null`: free). `token` is the holder's
 * fencing token, `null` while held under a token nobody saw (granted by an acquire that timed out).
 * `lastToken` is the highest token known to have been granted; every grant must exceed it.
 */
export interface LockState {
  readonly holder: number | null
  readonly token: number | null
  readonly lastToken: number
}

/** One lock operation, compact. `undefined` results mean the outcome is unknown (timed out). */
export type LockInput =
  | { readonly kind: 'acquire', readonly client: number, readonly granted: boolean | undefined, readonly token: number | null }
  | { readonly kind: 'release', readonly client: number, readonly token: number | null, readonly released: boolean | undefined }
  | { readonly kind: 'expire', readonly client: number }
  | { readonly kind: 'holder', readonly determinate: boolean, readonly holder: { client: number, token: number } | null }

const FREE: LockState = { holder: null, token: null, lastToken: Number.NEGATIVE_INFINITY }

function isHolderOutput (value: JsonValue): value is { client: number, token: number } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Number.isSafeInteger(value.client) && Number.isSafeInteger(value.token)
}

function release (state: LockState, token: number | null): LockState {
  return { holder: null, token: null, lastToken: token === null ? state.lastToken : Math.max(state.lastToken, token) }
}

/** Whether `client` holds the lock under `token` (`null`: under whatever token it holds). */
function holdsWith (state: LockState, client: number, token: number | null): boolean {
  if (state.holder !== client) return false
  if (token === null || state.token === token) return true
  // Held under a token nobody saw: any token above every token seen before could be it.
  return state.token === null && token > state.lastToken
}

function show (state: LockState): string {
  if (state.holder === null) return 'free'
  return `held by client ${state.holder} with token ${state.token ?? '(unseen)'}`
}

/**
 * The model of a mutual-exclusion lock with fencing tokens, one lock per `key`. It checks that at
 * most one client holds a lock at any moment and that each grant's token is strictly greater than
 * every token granted before it (so a storage service can reject writes from a deposed holder).
 *
 * | op        | fields                                                  | sequential meaning                                      |
 * |-----------|---------------------------------------------------------|---------------------------------------------------------|
 * | `acquire` | `ok`: granted? `output`: the fencing token (integer)    | granted only when free, with a token above all before;  |
 * |           |                                                         | `ok: false` (a try-lock refused) only when held         |
 * | `release` | `value`: the token released, or `null` for "mine";      | frees the lock when `client` holds it under that token; |
 * |           | `ok`: whether it was held                               | `ok: false` (not held) only when it does not            |
 * | `expire`  | (none) the interval in which the client's session ended | frees the lock if `client` holds it; always legal       |
 * | `holder`  | `output`: `{"client":c,"token":t}` or `null` (free)     | a read of who holds the lock                            |
 *
 * An `acquire` that timed out may have been granted: the lock is then held by that client under a
 * token nobody saw, until that client releases it or its session expires. Record that with an
 * `expire` op (or a `release` with `value: null`), or later acquires by others will not fit.
 */
export function createLockModel (): Model<LockState, LockInput> {
  return {
    name: 'lock',
    operations: ['acquire', 'release', 'expire', 'holder'],

    validate (op: HistoryOp, present: (field: string) => boolean): string | undefined {
      const determinate = !op.failed && !op.indeterminate
      switch (op.op) {
        case 'acquire':
          if (determinate && op.ok && !Number.isSafeInteger(op.output)) return `a granted acquire needs its fencing token as an integer "output", got ${JSON.stringify(op.output)}`
          return undefined
        case 'release':
          if (op.value !== null && !Number.isSafeInteger(op.value)) return `a release's "value" must be the integer token released or null, got ${JSON.stringify(op.value)}`
          return undefined
        case 'holder':
          if (!determinate) return undefined
          if (!present('output')) return 'a completed holder read needs an "output": {"client": c, "token": t} or null when free'
          if (op.output !== null && !isHolderOutput(op.output)) return `a holder read's "output" must be {"client": c, "token": t} or null, got ${JSON.stringify(op.output)}`
          if (!op.ok) return 'a completed holder read has "ok": false; mark it "failed" or "indeterminate"'
          return undefined
        default:
          if (determinate && !op.ok) return 'a completed expire has "ok": false; mark it "failed" or "indeterminate"'
          return undefined
      }
    },

    prepare (op: HistoryOp): LockInput {
      const determinate = !op.indeterminate && op.return !== null
      switch (op.op) {
        case 'acquire': return { kind: 'acquire', client: op.client, granted: determinate ? op.ok : undefined, token: determinate && op.ok ? op.output as number : null }
        case 'release': return { kind: 'release', client: op.client, token: op.value as number | null, released: determinate ? op.ok : undefined }
        case 'expire': return { kind: 'expire', client: op.client }
        default: return { kind: 'holder', determinate, holder: isHolderOutput(op.output) ? { client: op.output.client, token: op.output.token } : null }
      }
    },

    initialState: () => FREE,

    step (state: LockState, input: LockInput): LockState | undefined {
      switch (input.kind) {
        case 'acquire':
          if (input.granted === undefined) return state.holder === null ? { holder: input.client, token: null, lastToken: state.lastToken } : state
          if (!input.granted) return state.holder === null ? undefined : state
          if (state.holder !== null || input.token === null || input.token <= state.lastToken) return undefined
          return { holder: input.client, token: input.token, lastToken: input.token }
        case 'release': {
          const held = holdsWith(state, input.client, input.token)
          if (input.released === false) return held ? undefined : state
          if (held) return release(state, input.token)
          return input.released === undefined ? state : undefined
        }
        case 'expire':
          return state.holder === input.client ? release(state, null) : state
        case 'holder': {
          if (!input.determinate) return state
          const seen = input.holder
          if (seen === null) return state.holder === null ? state : undefined
          if (!holdsWith(state, seen.client, seen.token)) return undefined
          return state.token === seen.token ? state : { holder: seen.client, token: seen.token, lastToken: seen.token }
        }
      }
    },

    mayChangeState: (input: LockInput) => input.kind !== 'holder',

    inputKey (input: LockInput): string {
      switch (input.kind) {
        case 'acquire': return `acquire ${input.client} ${String(input.granted)} ${input.token ?? '-'}`
        case 'release': return `release ${input.client} ${input.token ?? '-'} ${String(input.released)}`
        case 'expire': return `expire ${input.client}`
        case 'holder': return `holder ${String(input.determinate)} ${input.holder === null ? '-' : `${input.holder.client} ${input.holder.token}`}`
      }
    },

    stateKey: (state: LockState) => `${state.holder ?? '-'}:${state.token ?? '?'}:${state.lastToken}`,

    describeState: show,

    describeOp (op: HistoryOp): string {
      const unknown = op.indeterminate || op.return === null
      switch (op.op) {
        case 'acquire': return `acquire ${op.key} by client ${op.client} -> ${unknown ? '?' : op.ok ? `granted, token ${JSON.stringify(op.output)}` : 'refused'}`
        case 'release': return `release ${op.key} by client ${op.client}${op.value === null ? '' : ` token ${JSON.stringify(op.value)}`} -> ${unknown ? '?' : op.ok ? 'released' : 'not held'}`
        case 'expire': return `session of client ${op.client} expired`
        default: return `holder ${op.key} -> ${unknown ? '?' : op.output === null ? 'free' : JSON.stringify(op.output)}`
      }
    },

    explainRejection (state: LockState, input: LockInput): string {
      switch (input.kind) {
        case 'acquire':
          if (input.granted === false) return 'was refused, but the lock was free'
          if (state.holder !== null) return `was granted, but the lock was ${show(state)}`
          return `was granted token ${input.token ?? '?'}, but token ${state.lastToken} was already granted before (fencing tokens must increase)`
        case 'release':
          return input.released === false ? `reported not held, but the lock was ${show(state)}` : `released, but the lock was ${show(state)}`
        case 'holder':
          return `read ${input.holder === null ? 'free' : `held by client ${input.holder.client} with token ${input.holder.token}`}, but the lock was ${show(state)}`
        default:
          return 'cannot be rejected'
      }
    }
  }
}
