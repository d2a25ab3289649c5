import type { CounterAccess } from './fenced-counter.js'

/** One resolved `acquire` of the workload's lock, as the client saw it. */
export interface GrantRecord {
  readonly grant: number
  readonly worker: number
  readonly token: number
  /** When `acquire` was called and when it resolved, milliseconds since the workload started. */
  readonly calledMs: number
  readonly acquiredMs: number
  /** Whether the holder was paused (its traffic held back) past its session TTL inside the critical section. */
  readonly paused: boolean
  /** `ok`: release confirmed; `lost`: the session ended first (ERR_NOT_HELD / expired); `unknown`: no answer. */
  release?: 'ok' | 'lost' | 'unknown'
}

/** What the lock workload recorded. */
export interface LockRun {
  /** How the clients reached the lock service. */
  readonly transport?: 'http' | 'ws' | undefined
  readonly grants: readonly GrantRecord[]
  readonly accesses: readonly CounterAccess[]
  /** The counter's value once every worker stopped. */
  readonly finalValue: number
  /** Acquires that failed (timeout, no leader), by error code. */
  readonly acquireFailures: Readonly<Record<string, number>>
  /** The first failed acquires, when and why, for the record. */
  readonly failures?: ReadonlyArray<{ atMs: number, worker: number, code: string, message: string }> | undefined
  /** A write with the oldest granted token after the run, which the counter must refuse. */
  readonly staleProbe?: { readonly token: number, readonly accepted: boolean } | undefined
}

export interface LockCheck {
  /** Writes the counter accepted: the acknowledged increments. */
  readonly increments: number
  readonly finalValue: number
  /** `increments - finalValue`: increments overwritten by a holder that read before them. */
  readonly lostUpdates: number
  /** Distinct grants that carried the same fencing token (tokens are log indexes: each must be unique). */
  readonly duplicateTokens: ReadonlyArray<{ token: number, grants: number[] }>
  /** Accepted writes whose token did not strictly increase when the writing grant changed. */
  readonly orderViolations: readonly string[]
  /** Grants whose token is not above that of a grant that completed before their acquire began. */
  readonly realTimeViolations: readonly string[]
  /** Accesses the counter decided against its own rule (accept iff token ≥ highest seen), replayed. */
  readonly wrongDecisions: number
  /** Reads and writes refused as stale, and how many of the refused writes came from a paused holder. */
  readonly staleRejected: { reads: number, writes: number, pausedWrites: number }
  readonly probeRejected: boolean | undefined
}

/**
 * Checks a lock run: no lost update (the final counter equals the acknowledged increments), fencing
 * tokens unique per grant and strictly increasing across the grants whose writes were accepted and
 * across grants ordered in real time, and the counter's stale-token refusals replayed independently.
 */
export function checkLockRun (run: LockRun): LockCheck {
  const grants = new Map(run.grants.map((g) => [g.grant, g]))
  let highest = 0
  let wrongDecisions = 0
  let increments = 0
  const stale = { reads: 0, writes: 0, pausedWrites: 0 }
  const orderViolations: string[] = []
  let lastWrite: CounterAccess | undefined
  for (const access of run.accesses) {
    const shouldAccept = access.token >= highest
    if (access.accepted !== shouldAccept) wrongDecisions += 1
    if (!access.accepted) {
      if (access.kind === 'read') stale.reads += 1
      else {
        stale.writes += 1
        if (grants.get(access.grant)?.paused === true) stale.pausedWrites += 1
      }
      continue
    }
    highest = Math.max(highest, access.token)
    if (access.kind !== 'write') continue
    increments += 1
    if (lastWrite !== undefined) {
      const changed = lastWrite.grant !== access.grant
      if ((changed && access.token <= lastWrite.token) || (!changed && access.token !== lastWrite.token)) {
        orderViolations.push(`grant ${access.grant} wrote with token ${access.token} after grant ${lastWrite.grant} wrote with token ${lastWrite.token}`)
      }
    }
    lastWrite = access
  }

  const byToken = new Map<number, number[]>()
  for (const g of run.grants) byToken.set(g.token, [...(byToken.get(g.token) ?? []), g.grant])
  const duplicateTokens = [...byToken].filter(([, ids]) => ids.length > 1).map(([token, ids]) => ({ token, grants: ids }))

  // A grant whose acquire resolved before another's acquire was called was committed to the log
  // first, so its token (the granting entry's index) must be lower.
  const realTimeViolations: string[] = []
  const byAcquired = [...run.grants].sort((a, b) => a.acquiredMs - b.acquiredMs)
  const byCalled = [...run.grants].sort((a, b) => a.calledMs - b.calledMs)
  let done = 0
  let maxBefore: GrantRecord | undefined
  for (const g of byCalled) {
    while (done < byAcquired.length && (byAcquired[done] as GrantRecord).acquiredMs < g.calledMs) {
      const earlier = byAcquired[done] as GrantRecord
      if (maxBefore === undefined || earlier.token > maxBefore.token) maxBefore = earlier
      done += 1
    }
    if (maxBefore !== undefined && g.token <= maxBefore.token) {
      realTimeViolations.push(`grant ${g.grant} (worker ${g.worker}, called at ${g.calledMs} ms) got token ${g.token}, not above token ${maxBefore.token} of grant ${maxBefore.grant} acquired at ${maxBefore.acquiredMs} ms`)
    }
  }

  return {
    increments,
    finalValue: run.finalValue,
    lostUpdates: increments - run.finalValue,
    duplicateTokens,
    orderViolations,
    realTimeViolations,
    wrongDecisions,
    staleRejected: stale,
    probeRejected: run.staleProbe === undefined ? undefined : !run.staleProbe.accepted
  }
}
