import type { HistoryOp, JsonValue } from '../../src/index.js'

/** The plan of one operation; the simulated register fills in what it reads and whether a cas swaps. */
export interface PlannedOp {
  readonly kind: 'get' | 'put' | 'cas' | 'del'
  readonly key: number
  /** Idle time before the call, ns. */
  readonly gap: number
  /** Time from call to return, ns (at least 1). */
  readonly duration: number
  /** Where in [call, return] the operation takes effect, in thousandths. */
  readonly at: number
  /** What happens to the client's view of it. */
  readonly fate: 'ok' | 'failed' | 'timeout-applied' | 'timeout-lost'
  /** For a cas: compare against the current value (likely swap) or a made-up one (likely not). */
  readonly casMatches: boolean
}

/**
 * Runs the planned operations of every client against a single atomic register per key: each
 * operation takes effect at one instant inside its interval, in instant order. The resulting
 * history is linearizable by construction. Every written value is unique.
 */
export function simulateRegister (clients: ReadonlyArray<readonly PlannedOp[]>): HistoryOp[] {
  interface Timed { op: HistoryOp, plan: PlannedOp, instant: number, order: number }
  const timed: Timed[] = []
  clients.forEach((plans, client) => {
    let clock = 0
    for (const plan of plans) {
      const call = clock + plan.gap
      const ret = call + Math.max(1, plan.duration)
      clock = ret + 1
      const unknown = plan.fate === 'timeout-applied' || plan.fate === 'timeout-lost'
      timed.push({
        op: { client, op: plan.kind, key: `k${plan.key}`, value: null, expected: null, call, return: unknown ? null : ret, ok: true, output: null, failed: plan.fate === 'failed', indeterminate: unknown },
        plan,
        // A timed-out operation may still take effect long after the client gave up on it.
        instant: call + ((ret - call) * plan.at * (unknown ? 5 : 1)) / 1000,
        order: timed.length
      })
    }
  })

  const registers = new Map<string, JsonValue>()
  let nextValue = 1
  for (const { op, plan } of [...timed].sort((a, b) => a.instant - b.instant || a.order - b.order)) {
    const current = registers.get(op.key) ?? null
    const applies = plan.fate === 'ok' || plan.fate === 'timeout-applied'
    switch (plan.kind) {
      case 'get':
        if (applies) op.output = current
        break
      case 'put':
        op.value = nextValue++
        if (applies) registers.set(op.key, op.value)
        break
      case 'del':
        if (applies) registers.delete(op.key)
        break
      case 'cas': {
        op.expected = plan.casMatches ? current : -nextValue
        op.value = nextValue++
        const swapped = op.expected === current
        if (applies && swapped) registers.set(op.key, op.value)
        if (plan.fate === 'ok') op.ok = swapped
        break
      }
    }
    if (op.failed) op.ok = false
  }
  return timed.map(({ op }) => op)
}

/** A seeded xorshift source for benchmarks (tests draw their randomness from fast-check). */
export function xorshift (seed: number): () => number {
  let state = seed | 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

/** Plans `opsPerClient` operations for each of `clients` clients over `keys` keys. */
export function planRandomWorkload (random: () => number, init: { clients: number, opsPerClient: number, keys: number, timeoutRate: number, failRate: number }): PlannedOp[][] {
  const kinds = ['get', 'get', 'put', 'cas', 'del'] as const
  return Array.from({ length: init.clients }, () => Array.from({ length: init.opsPerClient }, (): PlannedOp => {
    const roll = random()
    const fate = roll < init.timeoutRate ? (random() < 0.5 ? 'timeout-applied' : 'timeout-lost') : roll < init.timeoutRate + init.failRate ? 'failed' : 'ok'
    return {
      kind: kinds[Math.floor(random() * kinds.length)]!,
      key: Math.floor(random() * init.keys),
      gap: Math.floor(random() * 200),
      duration: 1 + Math.floor(random() * 1000),
      at: Math.floor(random() * 1001),
      fate,
      casMatches: random() < 0.7
    }
  }))
}

/**
 * Makes one get of `history` read a value that was certainly overwritten before it was called:
 * a put or swapping cas `w1` of value v returned before another write `w2` was called, and `w2`
 * returned before the get was called. Values are unique, so no linearization lets the get read v.
 * `pick` chooses among the possible (get, v) pairs; when there is none, a sequential
 * put, put, get is appended after everything else. Returns the index of the stale get.
 */
export function injectStaleRead (history: HistoryOp[], pick: number): number {
  const determinate = (op: HistoryOp): boolean => !op.failed && !op.indeterminate && op.return !== null
  const writes = history.filter((op) => determinate(op) && (op.op === 'put' || op.op === 'del' || (op.op === 'cas' && op.ok)))
  const choices: Array<{ get: number, value: JsonValue }> = []
  history.forEach((get, index) => {
    if (get.op !== 'get' || !determinate(get)) return
    for (const w2 of writes) {
      if (w2.key !== get.key || w2.return! >= get.call) continue
      for (const w1 of writes) {
        if (w1.key === get.key && w1.op !== 'del' && w1.return! < w2.call && w1.value !== w2.value) {
          choices.push({ get: index, value: w1.value })
          break
        }
      }
      if (choices.length > 0 && choices[choices.length - 1]!.get === index) return
    }
  })
  if (choices.length > 0) {
    const choice = choices[pick % choices.length]!
    history[choice.get]!.output = choice.value
    return choice.get
  }
  const end = Math.max(0, ...history.map((op) => op.return ?? op.call)) + 10
  const base = { client: 0, key: 'k0', expected: null, ok: true, output: null, failed: false, indeterminate: false }
  history.push({ ...base, op: 'put', value: 'stale-a', call: end, return: end + 1 })
  history.push({ ...base, op: 'put', value: 'stale-b', call: end + 2, return: end + 3 })
  history.push({ ...base, op: 'get', value: null, output: 'stale-a', call: end + 4, return: end + 5 })
  return history.length - 1
}
