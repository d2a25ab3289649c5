import type { CheckResult } from '../checker/check.js'
import type { AnyModel } from '../models/model.js'
import { describeHistoryOp } from './describe.js'

export interface FormatOptions {
  /**
   * How many operations of the partial linearization to show before the point where it got stuck.
   * @default 10
   */
  readonly contextOps?: number | undefined
}

/** The verdict line the CLI prints: `LINEARIZABLE`, `NOT LINEARIZABLE` or `UNKNOWN`. */
export function verdictLine (result: CheckResult): string {
  switch (result.verdict) {
    case 'linearizable': return 'LINEARIZABLE'
    case 'not-linearizable': return 'NOT LINEARIZABLE'
    default: return 'UNKNOWN'
  }
}

/**
 * The result for a person: the verdict, a summary per key and, for a violation, the smallest
 * failing key's longest partial linearization, the state it reached, and every operation that could
 * not be placed next with the reason. `model` must be the model the history was checked with.
 */
export function formatReport (result: CheckResult, model: AnyModel, options: FormatOptions = {}): string {
  const history = result.history
  const lines: string[] = []
  const checked = result.keys.filter((key) => key.verdict !== 'unknown').length
  lines.push(`${verdictLine(result)} (${result.model} model, ${plural(history.length, 'operation')}, ${plural(result.keys.length, 'key')}, ${checked} checked)`)
  if (result.verdict === 'unknown') {
    const open = result.keys.filter((key) => key.verdict === 'unknown').map((key) => JSON.stringify(key.key))
    lines.push(`gave up at the time limit; not decided: ${open.join(', ')}`)
  }
  if (result.failingKeys.length > 0) {
    lines.push(`not linearizable: ${result.failingKeys.map((key) => JSON.stringify(key)).join(', ')}`)
  }
  const violation = result.violation
  if (violation === undefined) return lines.join('\n') + '\n'

  const show = (index: number): string => describeHistoryOp(model, history, index)
  const keyOps = result.keys.find((key) => key.key === violation.key)?.ops ?? 0
  const contextOps = options.contextOps ?? 10
  lines.push('')
  lines.push(`key ${JSON.stringify(violation.key)} (${keyOps} operations) has no linearization.`)
  lines.push(`Longest partial linearization: ${violation.linearized.length} operations, from ${violation.initialState}:`)
  const shown = violation.linearized.slice(Math.max(0, violation.linearized.length - contextOps))
  const hidden = violation.linearized.length - shown.length
  if (hidden > 0) lines.push(`  ... ${hidden} earlier operations`)
  for (const step of shown) lines.push(`  ${show(step.op)}  => ${step.stateAfter}`)
  lines.push(`Stuck in state ${violation.state}: this operation had to take effect before it returned, and could not:`)
  lines.push(`  ${show(violation.blocking)}`)
  lines.push('Operations that could have come next:')
  for (const candidate of violation.candidates) {
    lines.push(`  ${show(candidate.op)}`)
    lines.push(`      ${candidate.reason}`)
  }
  return lines.join('\n') + '\n'
}

function plural (count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
