import { describe, expect, it } from 'vitest'
import { checkLockRun, type GrantRecord, type LockRun } from '../src/locks/check.js'
import { createFencedCounter } from '../src/locks/fenced-counter.js'
import { createTrafficGate } from '../src/locks/http-lock-server.js'
import { createWsLockServer } from '../src/locks/ws-lock-server.js'

const grant = (id: number, token: number, calledMs: number, acquiredMs: number, paused = false): GrantRecord =>
  ({ grant: id, worker: id, token, calledMs, acquiredMs, paused, release: 'ok' })

/** Replays critical sections against a real fenced counter: each is [grant, token, read, then write]. */
function run (grants: GrantRecord[], steps: Array<['read' | 'write', number]>): LockRun {
  let clock = 0
  const counter = createFencedCounter(() => clock++)
  const reads = new Map<number, number>()
  for (const [kind, id] of steps) {
    const g = grants.find((x) => x.grant === id) as GrantRecord
    if (kind === 'read') {
      const value = counter.read(id, g.token)
      if (value !== undefined) reads.set(id, value)
    } else {
      const value = reads.get(id)
      if (value !== undefined) counter.write(id, g.token, value + 1)
    }
  }
  return { grants, accesses: counter.accesses, finalValue: counter.peek(), acquireFailures: {} }
}

describe('lock run check', () => {
  it('passes serial critical sections with increasing tokens', () => {
    const grants = [grant(1, 5, 0, 1), grant(2, 9, 2, 3), grant(3, 12, 4, 5)]
    const result = checkLockRun(run(grants, [['read', 1], ['write', 1], ['read', 2], ['write', 2], ['read', 3], ['write', 3]]))
    expect(result).toMatchObject({ increments: 3, finalValue: 3, lostUpdates: 0, wrongDecisions: 0, duplicateTokens: [], orderViolations: [], realTimeViolations: [] })
  })

  it('refuses a paused holder whose lease was taken over, and loses no update', () => {
    // Grant 1 reads, is paused past its TTL; grant 2 (higher token) reads and writes; grant 1 writes last.
    const grants = [grant(1, 5, 0, 1, true), grant(2, 9, 2, 3)]
    const result = checkLockRun(run(grants, [['read', 1], ['read', 2], ['write', 2], ['write', 1]]))
    expect(result.lostUpdates).toBe(0)
    expect(result.increments).toBe(1)
    expect(result.staleRejected).toEqual({ reads: 0, writes: 1, pausedWrites: 1 })
  })

  it('finds the lost update and the duplicate token when two grants share a token', () => {
    // A lock service that handed the same token to two holders: the fence admits both.
    const grants = [grant(1, 7, 0, 1), grant(2, 7, 0, 2)]
    const result = checkLockRun(run(grants, [['read', 1], ['read', 2], ['write', 1], ['write', 2]]))
    expect(result.lostUpdates).toBe(1)
    expect(result.duplicateTokens).toEqual([{ token: 7, grants: [1, 2] }])
    expect(result.orderViolations).toHaveLength(1)
  })

  it('finds a grant whose token is below one granted before its acquire began', () => {
    const grants = [grant(1, 20, 0, 10), grant(2, 15, 11, 12)]
    const result = checkLockRun({ grants, accesses: [], finalValue: 0, acquireFailures: {} })
    expect(result.realTimeViolations).toHaveLength(1)
    // Overlapping acquires may be granted in either order.
    expect(checkLockRun({ grants: [grant(1, 20, 0, 10), grant(2, 15, 5, 12)], accesses: [], finalValue: 0, acquireFailures: {} }).realTimeViolations).toEqual([])
  })

  it('replays the counter decisions and reports one that broke the rule', () => {
    const accesses = [
      { kind: 'read' as const, grant: 1, token: 9, accepted: true, atMs: 0, value: 0 },
      { kind: 'write' as const, grant: 2, token: 4, accepted: true, atMs: 1, value: 1 }
    ]
    const result = checkLockRun({ grants: [grant(1, 9, 0, 1), grant(2, 4, 0, 1)], accesses, finalValue: 1, acquireFailures: {}, staleProbe: { token: 4, accepted: false } })
    expect(result.wrongDecisions).toBe(1)
    expect(result.probeRejected).toBe(true)
  })
})

describe('traffic gate', () => {
  it('holds requests while closed and lets them through when opened', async () => {
    const gate = createTrafficGate()
    await gate.passed()
    gate.close()
    let passed = false
    const waiting = gate.passed().then(() => { passed = true })
    await Promise.resolve()
    expect(passed).toBe(false)
    gate.open()
    await waiting
    expect(passed).toBe(true)
  })

  it('gives up waiting when the signal aborts', async () => {
    const gate = createTrafficGate()
    gate.close()
    const controller = new AbortController()
    const waiting = gate.passed(controller.signal)
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})

describe('WebSocket lock server behind the gate', () => {
  it('sends nothing while the client is paused and times out as a request that never left', async () => {
    const gate = createTrafficGate()
    gate.close()
    const { server, client } = createWsLockServer(['ws://127.0.0.1:9'], gate)
    try {
      await expect(server.execute({ type: 'open-session', ttlMs: 1000 }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT', indeterminate: false })
      const controller = new AbortController()
      const waiting = server.awaitGrant({ session: 1, request: 1, name: 'x', afterIndex: 1 }, { signal: controller.signal })
      controller.abort()
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    } finally {
      await client.close()
    }
  })
})
