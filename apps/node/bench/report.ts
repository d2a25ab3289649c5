// The benchmark's outputs: a Markdown table for the terminal and the README, and an SVG chart.
import type { RunResult, System, Workload } from './protocol.js'

export interface Side extends RunResult {
  /** CPU of all three server processes in the measured window, per completed operation. */
  serverCpuUsPerOp: number
  /** The same less what the cluster burns when idle (heartbeats, timers); matters at low rates. */
  serverCpuUsPerOpNetOfIdle: number
  /** Share of the servers' CPU time spent in the kernel (stime): syscalls, fsync, networking. */
  serverKernelShare: number
  /** CPU seconds per wall second of the generator process (1 = one core busy). */
  clientCores: number
  clientCpuUsPerOp: number
  /** CPU seconds per wall second of each server process (1 = one core busy). */
  serverCores: number[]
}

export interface Row {
  workload: Exclude<Workload, 'load'>
  concurrency: number
  synod: Side
  etcd: Side
  /** Synod ops/s divided by etcd ops/s. */
  ratio: number
}

const fixed = (value: number, digits: number): string => Number.isFinite(value) ? value.toFixed(digits) : '-'

export function label (row: Pick<Row, 'workload' | 'concurrency'>): string {
  const name = row.workload === 'lock-1' ? 'lock, 1 name' : row.workload === 'lock-100' ? 'lock, 100 names' : row.workload
  return `${name} ×${row.concurrency}`
}

export function markdownTable (rows: Row[]): string {
  const lines = [
    '| workload | clients | Synod ops/s | etcd ops/s | Synod/etcd | Synod p50 / p99 ms | etcd p50 / p99 ms | server CPU µs/op Synod / etcd | client CPU µs/op Synod / etcd |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const row of rows) {
    const { synod: s, etcd: e } = row
    const errors = s.errors + e.errors > 0 ? ` (errors ${s.errors} / ${e.errors})` : ''
    lines.push(`| ${label(row).replace(/ ×\d+$/, '')}${errors} | ${row.concurrency} | ${fixed(s.opsPerSec, 0)} | ${fixed(e.opsPerSec, 0)} | ${fixed(row.ratio, 2)} | ` +
      `${fixed(s.p50Ms, 2)} / ${fixed(s.p99Ms, 2)} | ${fixed(e.p50Ms, 2)} / ${fixed(e.p99Ms, 2)} | ` +
      `${fixed(s.serverCpuUsPerOp, 0)} / ${fixed(e.serverCpuUsPerOp, 0)} | ${fixed(s.clientCpuUsPerOp, 0)} / ${fixed(e.clientCpuUsPerOp, 0)} |`)
  }
  return lines.join('\n')
}

const colours: Record<System, string> = { synod: '#2b6cb0', etcd: '#c05621' }

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Grouped horizontal bars, ops/s on a log scale (rows span three orders of magnitude). */
export function svgChart (rows: Row[], title: string, subtitle: string): string {
  const barHeight = 14
  const groupHeight = barHeight * 2 + 14
  const left = 150
  const width = 760
  const plotWidth = width - left - 90
  const top = 64
  const height = top + rows.length * groupHeight + 40
  const values = rows.flatMap((row) => [row.synod.opsPerSec, row.etcd.opsPerSec]).filter((v) => v > 0 && Number.isFinite(v))
  const min = 10 ** Math.floor(Math.log10(Math.min(...values, 10)))
  const max = 10 ** Math.ceil(Math.log10(Math.max(...values, 100)))
  const x = (value: number): number => value <= 0 || !Number.isFinite(value) ? 0 : plotWidth * (Math.log10(value / min) / Math.log10(max / min))
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="38" fill="#555">${escape(subtitle)}</text>`,
    `<rect x="${left}" y="46" width="10" height="10" fill="${colours.synod}"/><text x="${left + 14}" y="55">Synod</text>`,
    `<rect x="${left + 70}" y="46" width="10" height="10" fill="${colours.etcd}"/><text x="${left + 84}" y="55">etcd</text>`
  ]
  for (let decade = min; decade <= max; decade *= 10) {
    const gx = left + x(decade)
    parts.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 30}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${height - 16}" text-anchor="middle" fill="#555">${decade >= 1000 ? `${decade / 1000}k` : decade}</text>`)
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 3}" text-anchor="middle" fill="#555">operations per second (log scale)</text>`)
  rows.forEach((row, i) => {
    const y = top + i * groupHeight
    parts.push(`<text x="${left - 8}" y="${y + barHeight + 4}" text-anchor="end">${escape(label(row))}</text>`)
    ;(['synod', 'etcd'] as const).forEach((system, j) => {
      const side = row[system]
      const by = y + j * barHeight
      const w = Math.max(1, x(side.opsPerSec))
      parts.push(`<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${colours[system]}"/>`,
        `<text x="${left + w + 4}" y="${by + barHeight - 4}">${fixed(side.opsPerSec, 0)}${j === 0 ? `  (×${fixed(row.ratio, 2)})` : ''}</text>`)
    })
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
