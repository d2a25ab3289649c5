import type { HistoryRecorder } from '@synod/lincheck'
import { createSeededRandom } from '../random.js'
import { request, type Attempt } from './http.js'

export interface WorkloadContext {
  readonly urls: readonly string[]
  readonly recorder: HistoryRecorder
  readonly isRunning: () => boolean
  readonly timeoutMs: number
  /** Pause between a client's operations, so histories stay small enough to check. */
  readonly thinkMs: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * One register client: get/put/cas/del on a few keys, recorded for the linearizability checker.
 * After an operation with an unknown outcome the client takes a fresh id, as a Jepsen process
 * does, so no client id ever has two operations open.
 */
export async function registerClient (ctx: WorkloadContext, worker: number, keys: readonly string[], seed: number): Promise<void> {
  const random = createSeededRandom(seed)
  let generation = 0
  let n = 0
  let lastSeen: string | null = null
  const opts = { timeoutMs: ctx.timeoutMs, rounds: 3, isRunning: ctx.isRunning }
  while (ctx.isRunning()) {
    n += 1
    const client = worker * 1000 + generation
    const key = random.pick(keys)
    const roll = random.int(100)
    const first = random.int(ctx.urls.length)
    let result: Attempt
    if (roll < 40) {
      const pending = ctx.recorder.invoke({ client, op: 'get', key })
      result = await request(ctx.urls, first, 'GET', `/v1/kv/${key}`, undefined, opts)
      // A read that did not answer changed nothing: recording it as failed is exact and keeps
      // the checker's search small.
      if (result.kind !== 'done') pending.fail()
      else {
        lastSeen = result.status === 200 ? result.json.value as string : null
        pending.complete({ output: lastSeen })
      }
      // (the generation only changes after writes with unknown outcome)
    } else if (roll < 70) {
      const value = `w${worker}-${n}`
      const pending = ctx.recorder.invoke({ client, op: 'put', key, value })
      result = await request(ctx.urls, first, 'PUT', `/v1/kv/${key}`, value, opts)
      settle(pending, result, () => ({ ok: true }))
    } else if (roll < 92) {
      const value = `w${worker}-${n}`
      const expected = random.int(4) === 0 ? null : lastSeen
      const pending = ctx.recorder.invoke({ client, op: 'cas', key, value, expected })
      result = await request(ctx.urls, first, 'POST', `/v1/kv/${key}/cas`, JSON.stringify({ value, expectedValue: expected }), opts)
      settle(pending, result, () => ({ ok: result.kind === 'done' && result.json.ok === true }))
    } else {
      const pending = ctx.recorder.invoke({ client, op: 'del', key })
      result = await request(ctx.urls, first, 'DELETE', `/v1/kv/${key}`, undefined, opts)
      settle(pending, result, () => ({ ok: true }))
    }
    if (result.kind === 'unknown') generation += 1
    await sleep(ctx.thinkMs)
  }
}

function settle (pending: { complete: (c: { ok?: boolean }) => void, fail: () => void, timeout: () => void }, result: Attempt,
  completion: () => { ok?: boolean }): void {
  if (result.kind === 'refused') pending.fail()
  else if (result.kind === 'unknown') pending.timeout()
  else pending.complete(completion())
}

/** What the acknowledged-writes set workload saw. */
export interface SetOutcome {
  /** Elements whose add was acknowledged: each must be present at the end. */
  acknowledged: string[]
  /** Elements whose add has an unknown outcome: each may or may not be present. */
  uncertain: string[]
  /** Elements certainly not added. */
  refused: string[]
}

/** Key of set element `n` of a worker; elements are grouped so the final listing stays under the node's page limit. */
export function setKey (worker: number, n: number): string {
  return `set/w${worker}/${Math.floor(n / 1000)}/${n}`
}

/** Adds elements one at a time; an add is acknowledged when the node answered 200. */
export async function setClient (ctx: WorkloadContext, worker: number, outcome: SetOutcome): Promise<void> {
  const opts = { timeoutMs: ctx.timeoutMs, rounds: 3, isRunning: ctx.isRunning }
  let n = 0
  while (ctx.isRunning()) {
    n += 1
    const key = setKey(worker, n)
    const result = await request(ctx.urls, n, 'PUT', `/v1/kv/${key}`, String(n), opts)
    if (result.kind === 'done' && result.status === 200) outcome.acknowledged.push(key)
    else if (result.kind === 'refused') outcome.refused.push(key)
    else outcome.uncertain.push(key)
    await sleep(ctx.thinkMs)
  }
}

/** The set check: acknowledged adds lost, and elements present that nobody tried to add. */
export function checkSet (outcome: SetOutcome, present: ReadonlySet<string>): { lost: string[], unexpected: string[], uncertainPresent: number } {
  const attempted = new Set([...outcome.acknowledged, ...outcome.uncertain])
  return {
    lost: outcome.acknowledged.filter((key) => !present.has(key)),
    unexpected: [...present].filter((key) => !attempted.has(key)),
    uncertainPresent: outcome.uncertain.filter((key) => present.has(key)).length
  }
}
