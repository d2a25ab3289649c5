import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, classifyFailure } from '../src/retry/classify.js'
import { WriteSessions } from '../src/sessions.js'
import { NotLeaderError, StoppedError, TimeoutError, InvalidArgumentError, SynodError } from '@synod/interfaces'

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * 2^(retry-1))) — full jitter', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (retry, base, max, draw) => {
        const delay = backoffDelay(retry, base, max, () => draw)
        expect(delay).toBeGreaterThanOrEqual(0)
        expect(delay).toBeLessThan(Math.min(max, base * 2 ** (retry - 1)) + 1e-9)
      }), { seed: 3 })
  })

  it('doubles its ceiling with each retry up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, 25, 500, () => 0.999))).toEqual([25, 50, 100, 200, 400, 500].map((ceiling) => ceiling * 0.999))
  })
})

describe('classifyFailure', () => {
  it('says which failures certainly had no effect, which may have, and which are answers', () => {
    expect(classifyFailure(new NotLeaderError())).toBe('refused')
    expect(classifyFailure(new SynodError('busy', 'ERR_OVERLOADED'))).toBe('refused')
    expect(classifyFailure(new TimeoutError('t', { indeterminate: false }))).toBe('refused')
    expect(classifyFailure(new TimeoutError('t', { indeterminate: true }))).toBe('lost')
    expect(classifyFailure(new StoppedError())).toBe('lost')
    expect(classifyFailure(new Error('socket hang up'))).toBe('lost')
    expect(classifyFailure(new InvalidArgumentError('bad'))).toBe('final')
    expect(classifyFailure(new SynodError('nope', 'ERR_UNAUTHORIZED'))).toBe('final')
  })
})

describe('WriteSessions', () => {
  it('never lets two writes in flight share a session, and sequences only grow per session, and sessions number the peak concurrency', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (steps) => {
      const sessions = new WriteSessions('c')
      const open: Array<ReturnType<WriteSessions['acquire']>> = []
      const lastSeq = new Map<string, number>()
      let peak = 0
      for (const acquire of steps) {
        if (acquire || open.length === 0) {
          const session = sessions.acquire()
          expect(open.some((other) => other.client === session.client)).toBe(false)
          expect(session.seq).toBeGreaterThan(lastSeq.get(session.client) ?? 0)
          lastSeq.set(session.client, session.seq)
          open.push(session)
          peak = Math.max(peak, open.length)
        } else {
          open.shift()?.release()
        }
      }
      expect(sessions.lanes).toBe(peak)
    }), { seed: 5 })
  })
})
