import type { HistoryOp } from '@synod/lincheck'
import type { InjectedFault } from '../nemesis/nemesis.js'

export interface OpCounts { total: number, ok: number, failed: number, indeterminate: number }

/** Counts operations by outcome, overall and per operation type. */
export function countOps (history: readonly HistoryOp[]): { all: OpCounts, byOp: Record<string, OpCounts> } {
  const all: OpCounts = { total: 0, ok: 0, failed: 0, indeterminate: 0 }
  const byOp: Record<string, OpCounts> = {}
  for (const op of history) {
    const counts = byOp[op.op] ??= { total: 0, ok: 0, failed: 0, indeterminate: 0 }
    for (const c of [all, counts]) {
      c.total += 1
      if (op.failed) c.failed += 1
      else if (op.indeterminate) c.indeterminate += 1
      else c.ok += 1
    }
  }
  return { all, byOp }
}

/** One window of the availability timeline. */
export interface AvailabilityWindow {
  /** Window start, milliseconds after the workload started. */
  readonly startMs: number
  /** Operations that completed in the window with a definite answer. */
  readonly ok: number
  /** Operations that ended in the window without one (refused, unknown). */
  readonly notOk: number
  /** Faults active during the window. */
  readonly faults: string[]
}

/**
 * Buckets operations by when they ended (indeterminate ones by their call time: they never ended)
 * into windows of `windowMs`, and marks which faults were active.
 */
export function availability (history: readonly HistoryOp[], faults: readonly InjectedFault[], windowMs: number, endMs: number): AvailabilityWindow[] {
  const count = Math.max(1, Math.ceil(endMs / windowMs))
  const windows = Array.from({ length: count }, (_, i) => ({ startMs: i * windowMs, ok: 0, notOk: 0, faults: [] as string[] }))
  for (const op of history) {
    const atMs = (op.return ?? op.call) / 1e6
    const window = windows[Math.min(count - 1, Math.floor(atMs / windowMs))]
    if (window === undefined) continue
    if (op.failed || op.indeterminate) window.notOk += 1
    else window.ok += 1
  }
  for (const fault of faults) {
    for (const window of windows) {
      const overlaps = fault.startMs < window.startMs + windowMs && (fault.endMs ?? endMs) > window.startMs
      if (overlaps && !window.faults.includes(fault.kind)) window.faults.push(fault.kind)
    }
  }
  return windows
}

/** The longest run of consecutive windows in which no operation succeeded, in milliseconds. */
export function longestOutageMs (windows: readonly AvailabilityWindow[], windowMs: number): number {
  let longest = 0
  let current = 0
  for (const window of windows) {
    current = window.ok === 0 ? current + 1 : 0
    longest = Math.max(longest, current)
  }
  return longest * windowMs
}

export interface CheckLine {
  readonly check: string
  readonly pass: boolean
  readonly detail: string
  /** The consensus engine the check ran on, when a run covers more than one. */
  readonly engine?: string | undefined
}

/** A fixed-width table of checks for the terminal, with an engine column when any line names one. */
export function verdictTable (lines: readonly CheckLine[]): string {
  const withEngine = lines.some((l) => l.engine !== undefined)
  const head = withEngine ? ['engine', 'check', 'verdict', 'detail'] : ['check', 'verdict', 'detail']
  const rows = [head, ...lines.map((l) => [...(withEngine ? [l.engine ?? ''] : []), l.check, l.pass ? 'PASS' : 'FAIL', l.detail])]
  const fixed = head.length - 1
  const widths = Array.from({ length: fixed }, (_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)))
  const fmt = (row: string[]): string => row.map((cell, col) => col < fixed ? cell.padEnd(widths[col] ?? 0) : cell).join('  ')
  const sep = widths.map((w) => '-'.repeat(w)).join('  ') + '  ------'
  return [fmt(rows[0] as string[]), sep, ...rows.slice(1).map(fmt)].join('\n')
}

/** One poll's view of leadership: the leader the harness saw (null: none visible) and its term. */
export interface LeaderSample { readonly atMs: number, readonly leader: string | null, readonly term: number }

/** What a leader timeline amounts to. */
export interface LeadershipCount {
  /** A new leader or a new term after another one (polls that saw no leader in between do not count). */
  readonly changes: number
  /** Stretches in which no node answered as leader, after the first leader. */
  readonly gaps: number
}

/**
 * Counts leader changes in a timeline that also records stretches with no leader visible: a
 * leader that stays, through a gap, at the same term is not a change (a slow status poll, or an
 * election timeout that came to nothing); one that comes back at a new term is (it was re-elected).
 */
export function countLeadership (timeline: readonly LeaderSample[]): LeadershipCount {
  let changes = 0
  let gaps = 0
  let last: LeaderSample | undefined
  for (const sample of timeline) {
    if (sample.leader === null) {
      if (last !== undefined) gaps += 1
      continue
    }
    if (last !== undefined && (last.leader !== sample.leader || last.term !== sample.term)) changes += 1
    last = sample
  }
  return { changes, gaps }
}

/**
 * Leader changes (as `countLeadership` counts them) by the latest fault event before each: `inject
 * <kind>` or `heal <kind>`, or `quiet` when that event is more than `quietMs` old. It says when
 * changes happen, not what caused them, but a kind that keeps showing up is where to look.
 */
export function leaderChangesByFault (timeline: readonly LeaderSample[], faults: readonly InjectedFault[], quietMs = 15_000): Map<string, number> {
  // Faults injected or healed together (a paired step) are one event: `inject kill-one+packet-loss`.
  const byTime = new Map<number, { inject: Set<string>, heal: Set<string> }>()
  const at = (ms: number): { inject: Set<string>, heal: Set<string> } => {
    let entry = byTime.get(ms)
    if (entry === undefined) byTime.set(ms, entry = { inject: new Set(), heal: new Set() })
    return entry
  }
  for (const f of faults) {
    at(f.startMs).inject.add(f.kind)
    if (f.endMs !== undefined) at(f.endMs).heal.add(f.kind)
  }
  const events = [...byTime].sort((a, b) => a[0] - b[0]).map(([atMs, e]) => ({
    atMs,
    what: [e.heal.size > 0 ? `heal ${[...e.heal].sort().join('+')}` : '', e.inject.size > 0 ? `inject ${[...e.inject].sort().join('+')}` : ''].filter((w) => w !== '').join(', ')
  }))
  const counts = new Map<string, number>()
  let last: LeaderSample | undefined
  for (const sample of timeline) {
    if (sample.leader === null) continue
    if (last !== undefined && (last.leader !== sample.leader || last.term !== sample.term)) {
      const before = events.filter((e) => e.atMs <= sample.atMs).at(-1)
      const key = before === undefined || sample.atMs - before.atMs > quietMs ? 'quiet' : before.what
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    last = sample
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
}
