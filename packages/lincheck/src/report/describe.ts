import type { HistoryOp } from '../history/format.js'
import type { AnyModel } from '../models/model.js'

/** A time in nanoseconds, in the unit that keeps it readable: `850ns`, `12.5µs`, `3.250ms`, `1.5s`. */
export function formatNs (ns: number): string {
  if (ns < 1_000) return `${ns}ns`
  if (ns < 1_000_000) return `${trim((ns / 1_000).toFixed(3))}µs`
  if (ns < 1_000_000_000) return `${trim((ns / 1_000_000).toFixed(3))}ms`
  return `${trim((ns / 1_000_000_000).toFixed(6))}s`
}

function trim (fixed: string): string {
  return fixed.replace(/\.?0+$/, '')
}

/** `#12 client 3 [1.5µs, 2µs] put x 1` (a `?` return means the outcome is unknown). */
export function describeHistoryOp (model: AnyModel, history: readonly HistoryOp[], index: number): string {
  const op = history[index]!
  const end = op.indeterminate || op.return === null ? '?' : formatNs(op.return)
  const status = op.failed ? ' (failed)' : op.indeterminate || op.return === null ? ' (outcome unknown)' : ''
  return `#${index} client ${op.client} [${formatNs(op.call)}, ${end}] ${model.describeOp(op)}${status}`
}
