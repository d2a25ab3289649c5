import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createLockStateMachine, decodeCommand, encodeCommand } from '../src/index.js'
import type { LockCommand, LockMode, LockResult, LockStateMachine, LockView } from '../src/index.js'

/** An abstract step; session slots are resolved to the sessions opened so far when it runs. */
type Step =
  | { kind: 'open' }
  | { kind: 'keepalive' | 'close', slot: number }
  | { kind: 'expire', slot: number, stale: boolean }
  | { kind: 'acquire', slot: number, request: number, name: number, mode: LockMode, permits: number, wait: boolean, lockDelayMs: number }
  | { kind: 'release', slot: number, request: number, name: number }
  | { kind: 'lift', name: number }

const names = ['a', 'b', 'c']
const semaphoreLimit = 3

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('keepalive' as const, 'close' as const), slot: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), slot: fc.nat(5), stale: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      slot: fc.nat(5),
      request: fc.integer({ min: 1, max: 6 }),
      name: fc.nat(names.length - 1),
      mode: fc.constantFrom<LockMode>('exclusive', 'shared', 'semaphore'),
      permits: fc.integer({ min: 1, max: semaphoreLimit }),
      wait: fc.boolean(),
      lockDelayMs: fc.constantFrom(0, 0, 100)
    })
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), slot: fc.nat(5), request: fc.integer({ min: 1, max: 6 }), name: fc.nat(names.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lift' as const), name: fc.nat(names.length - 1) }) }
)

function toCommand (s: Step, sessions: number[], machine: LockStateMachine): LockCommand {
  const session = sessions.length === 0 ? 1 : sessions[('slot' in s ? s.slot : 0) % sessions.length] as number
  switch (s.kind) {
    case 'open': return { type: 'open-session', ttlMs: 1000 }
    case 'keepalive': return { type: 'keepalive', session }
    case 'close': return { type: 'close-session', session }
    case 'expire': {
      const renewed = machine.session(session)?.renewedIndex ?? 0
      return { type: 'expire-session', session, renewedIndex: s.stale ? renewed - 1 : renewed }
    }
    case 'acquire': {
      const name = names[s.name] as string
      // Each name has a fixed kind so most acquires are valid; 'c' is a semaphore.
      const mode: LockMode = name === 'c' ? 'semaphore' : s.mode === 'semaphore' ? 'exclusive' : s.mode
      return {
        type: 'acquire', session, request: s.request, name, mode,
        permits: mode === 'semaphore' ? s.permits : 1, limit: mode === 'semaphore' ? semaphoreLimit : 0,
        wait: s.wait, lockDelayMs: s.lockDelayMs
      }
    }
    case 'release': return { type: 'release', session, request: s.request, name: names[s.name] as string }
    case 'lift': {
      const name = names[s.name] as string
      return { type: 'lift-delay', name, delayIndex: machine.lock(name)?.delay?.index ?? 0 }
    }
  }
}

/** The invariants every reachable state must satisfy. */
function checkInvariants (machine: LockStateMachine): void {
  const live = new Set(machine.sessions().map((s) => s.id))
  for (const lock of machine.locks()) {
    for (const holder of lock.holders) expect(live.has(holder.session)).toBe(true)
    for (const waiter of lock.queue) expect(live.has(waiter.session)).toBe(true)
    if (lock.kind === 'semaphore') {
      expect(lock.holders.reduce((n, h) => n + h.permits, 0)).toBeLessThanOrEqual(lock.limit)
    } else {
      const exclusive = lock.holders.filter((h) => h.mode === 'exclusive').length
      expect(exclusive === 0 || lock.holders.length === 1).toBe(true)
    }
    // No stuck waiter: if nothing delays the lock, the head of the queue is truly blocked.
    const head = lock.queue[0]
    if (head !== undefined && lock.delay === undefined) expect(blocks(lock, head)).toBe(true)
    expect(lock.holders.length + lock.queue.length > 0 || lock.delay !== undefined).toBe(true)
  }
}

function blocks (lock: LockView, head: LockView['queue'][number]): boolean {
  if (lock.kind === 'semaphore') return lock.holders.reduce((n, h) => n + h.permits, 0) + head.permits > lock.limit
  if (head.mode === 'exclusive') return lock.holders.length > 0
  return lock.holders.some((h) => h.mode === 'exclusive')
}

async function snapshotOf (machine: LockStateMachine): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of machine.snapshot()) chunks.push(chunk)
  return chunks
}

describe('lock state machine: properties', () => {
  it('keeps its invariants, grants FIFO with increasing tokens, and replays identically from a snapshot', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80 }), fc.nat(80), async (steps, cut) => {
      const machine = createLockStateMachine({ minTtlMs: 10 })
      let replica: LockStateMachine | undefined
      const sessions: number[] = []
      const lastExclusiveToken = new Map<string, number>()
      const lastToken = new Map<string, number>()
      const enqueued = new Map<string, string[]>()
      machine.addEventListener('granted', ({ detail }) => {
        const view = machine.lock(detail.name)
        const holder = view?.holders.find((h) => h.session === detail.session && h.request === detail.request)
        expect(holder?.token).toBe(detail.token)
        // Tokens never go back for a name, and an exclusive grant gets a token nobody had before.
        expect(detail.token).toBeGreaterThanOrEqual(lastToken.get(detail.name) ?? 0)
        if (holder?.mode === 'exclusive') expect(detail.token).toBeGreaterThan(lastToken.get(detail.name) ?? 0)
        if (holder?.mode === 'exclusive') lastExclusiveToken.set(detail.name, detail.token)
        lastToken.set(detail.name, detail.token)
        // FIFO: a queued request is granted only once every request queued before it is gone.
        const queue = enqueued.get(detail.name) ?? []
        const key = `${detail.session}/${detail.request}`
        const position = queue.indexOf(key)
        if (position >= 0) {
          for (const earlier of queue.slice(0, position)) {
            const [s, r] = earlier.split('/').map(Number) as [number, number]
            expect(machine.requestState(s, r, detail.name).state).not.toBe('queued')
          }
          queue.splice(position, 1)
        }
      })
      for (const [i, s] of steps.entries()) {
        if (i === cut) {
          replica = createLockStateMachine({ minTtlMs: 10 })
          const chunks = await snapshotOf(machine)
          await replica.restore((async function * () { yield * chunks })(), { index: i, term: 1 })
        }
        const command = toCommand(s, sessions, machine)
        const data = encodeCommand(command)
        const result: LockResult = machine.apply({ index: i + 1, term: 1, data })
        if (replica !== undefined) expect(replica.apply({ index: i + 1, term: 1, data })).toEqual(result)
        if (result.type === 'session-opened') sessions.push(result.session)
        if (result.type === 'queued' && command.type === 'acquire') {
          const queue = enqueued.get(command.name) ?? []
          queue.push(`${command.session}/${command.request}`)
          enqueued.set(command.name, queue)
        }
        checkInvariants(machine)
      }
      if (replica !== undefined) {
        expect(replica.sessions()).toEqual(machine.sessions())
        expect(replica.locks()).toEqual(machine.locks())
      }
    }), { seed: 20261128, numRuns: 300 })
  })

  it('encodes every command compactly and decodes it unchanged', () => {
    fc.assert(fc.property(step, fc.array(fc.nat(10), { maxLength: 3 }), (s, opened) => {
      const machine = createLockStateMachine()
      const command = toCommand(s, opened.map((n) => n + 1), machine)
      expect(decodeCommand(encodeCommand(command))).toEqual(command)
    }), { seed: 7, numRuns: 500 })
    expect(encodeCommand({ type: 'keepalive', session: 1234 }).byteLength).toBeLessThanOrEqual(5)
  })
})
