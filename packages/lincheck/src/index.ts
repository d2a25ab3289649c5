/**
 * @packageDocumentation
 *
 * A linearizability checker for histories of a key-value store or a lock service, with a recorder
 * that test clients write into and a CLI, `synod-lincheck`.
 *
 * The checker is the Wing & Gong depth-first search with Lowe's memoisation of (linearized set,
 * model state), as in Porcupine, run on each key separately. Operations that certainly failed are
 * ignored; operations whose outcome is unknown (timed out) may take effect at any time after their
 * call, or never. Models are pluggable: `createKvModel()` (get/put/cas/del registers) and
 * `createLockModel()` (mutual exclusion with strictly increasing fencing tokens) ship here.
 *
 * @example
 * ```ts
 * import { checkHistory, formatReport, createKvModel } from '@synod/lincheck'
 *
 * const model = createKvModel()
 * const result = checkHistory([
 *   { client: 1, op: 'put', key: 'x', value: 1, call: 0, return: 10 },
 *   { client: 1, op: 'put', key: 'x', value: 2, call: 20, return: 30 },
 *   { client: 2, op: 'get', key: 'x', output: 1, call: 40, return: 50 } // stale read
 * ], { model })
 * console.log(result.verdict) // 'not-linearizable'
 * console.log(formatReport(result, model))
 * ```
 */
export { checkHistory } from './checker/check.js'
export type { CheckComponents, CheckOptions, CheckResult, KeyResult, LinearizedStep, RejectedCandidate, Verdict, Violation } from './checker/check.js'
export { searchLinearization } from './checker/search.js'
export type { DeadEnd, SearchOp, SearchOptions, SearchResult } from './checker/search.js'
export { MalformedHistoryError } from './history/errors.js'
export { outcomeOf, stringifyHistory } from './history/format.js'
export type { HistoryOp, HistoryOpInit, OpOutcome } from './history/format.js'
export { canonicalJson, isJsonValue } from './history/json.js'
export type { JsonValue } from './history/json.js'
export { normalizeHistory, parseHistory } from './history/parse.js'
export { createHistoryRecorder, defaultClassifyError, nanosFromClock } from './history/recorder.js'
export type { Completion, HistoryRecorder, HistoryRecorderComponents, HistoryRecorderOptions, Invocation, PendingOp } from './history/recorder.js'
export { createKvModel } from './models/kv.js'
export type { KvInput, KvState } from './models/kv.js'
export { createLockModel } from './models/lock.js'
export type { LockInput, LockState } from './models/lock.js'
export type { AnyModel, Model } from './models/model.js'
export { describeHistoryOp, formatNs } from './report/describe.js'
export { renderTimelineHtml } from './report/html.js'
export type { TimelineOptions } from './report/html.js'
export { formatReport, verdictLine } from './report/text.js'
export type { FormatOptions } from './report/text.js'
