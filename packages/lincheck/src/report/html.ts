import type { CheckResult } from '../checker/check.js'
import type { AnyModel } from '../models/model.js'
import { describeHistoryOp, formatNs } from './describe.js'
import { formatReport } from './text.js'

export interface TimelineOptions {
  /**
   * The key to draw. Defaults to the failing key, else the key with the most operations.
   * @default result.violation?.key
   */
  readonly key?: string | undefined
  /**
   * Draw at most this many operations (the ones around the violation when there is one).
   * @default 400
   */
  readonly maxOps?: number | undefined
}

const ROW_HEIGHT = 28
const LEFT = 90
const WIDTH = 1200

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/**
 * A self-contained HTML page (no scripts, no network) with one key's operations drawn as bars on a
 * timeline, one row per client, and the text report below. Bars: green = in the longest partial
 * linearization, red = could not be placed next, outlined = the operation that got stuck, dashed =
 * outcome unknown, faded = failed. Hover a bar for its details.
 */
export function renderTimelineHtml (result: CheckResult, model: AnyModel, options: TimelineOptions = {}): string {
  const history = result.history
  const violation = result.violation
  const key = options.key ?? violation?.key ?? [...result.keys].sort((a, b) => b.ops - a.ops)[0]?.key
  const maxOps = options.maxOps ?? 400
  let members = history.map((_, index) => index).filter((index) => history[index]!.key === key)
  if (violation !== undefined && key === violation.key && members.length > maxOps) {
    // Keep the window of operations around the dead end.
    const focus = violation.involved
    const from = Math.min(...focus.map((index) => history[index]!.call))
    members = members.filter((index) => (history[index]!.return ?? Number.POSITIVE_INFINITY) >= from)
  }
  members = members.slice(0, maxOps)

  const shown = violation !== undefined && key === violation.key ? violation : undefined
  const linearized = new Set(shown?.linearized.map((step) => step.op) ?? [])
  const rejected = new Set(shown?.candidates.map((candidate) => candidate.op) ?? [])
  const blocking = shown?.blocking ?? -1

  const start = Math.min(...members.map((index) => history[index]!.call))
  const end = Math.max(...members.map((index) => history[index]!.return ?? history[index]!.call)) + 1
  const scale = (time: number): number => LEFT + ((time - start) / Math.max(1, end - start)) * (WIDTH - LEFT - 10)
  const clients = [...new Set(members.map((index) => history[index]!.client))].sort((a, b) => a - b)
  const row = new Map(clients.map((client, i) => [client, i]))

  const bars = members.map((index) => {
    const op = history[index]!
    const unknown = op.indeterminate || op.return === null
    const x = scale(op.call)
    const x2 = unknown ? WIDTH - 10 : scale(op.return ?? op.call)
    const y = 20 + (row.get(op.client) ?? 0) * ROW_HEIGHT
    const fill = op.failed ? '#ddd' : linearized.has(index) ? '#9fd89f' : rejected.has(index) ? '#f2a0a0' : '#c8d4e8'
    const stroke = index === blocking ? 'stroke="#900" stroke-width="2.5"' : unknown ? 'stroke="#555" stroke-dasharray="4 3"' : 'stroke="#777"'
    const label = `${model.describeOp(op)}`
    return `<g><title>${escape(describeHistoryOp(model, history, index))}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(2, x2 - x).toFixed(1)}" height="${ROW_HEIGHT - 8}" rx="3" fill="${fill}" ${stroke}/>` +
      `<text x="${(x + 3).toFixed(1)}" y="${y + 14}" font-size="10">${escape(label.length > 28 ? label.slice(0, 27) + '…' : label)}</text></g>`
  })
  const labels = clients.map((client, i) => `<text x="4" y="${34 + i * ROW_HEIGHT}" font-size="12">client ${client}</text>`)
  const height = 40 + clients.length * ROW_HEIGHT

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lincheck: ${escape(result.verdict)} ${escape(JSON.stringify(key ?? ''))}</title>
<style>body{font-family:system-ui,sans-serif;margin:20px}pre{background:#f6f6f6;padding:12px;overflow:auto}svg{border:1px solid #ccc}</style>
</head><body>
<h1>${escape(result.verdict)} — key ${escape(JSON.stringify(key ?? ''))}</h1>
<p>${members.length} operations from ${escape(formatNs(start))} to ${escape(formatNs(end))}. Green: in the longest partial linearization. Red: could not be placed next. Dark outline: the operation that got stuck. Dashed: outcome unknown. Grey: failed.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">
${labels.join('\n')}
${bars.join('\n')}
</svg>
<pre>${escape(formatReport(result, model))}</pre>
</body></html>
`
}
