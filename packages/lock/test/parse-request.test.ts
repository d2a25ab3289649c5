import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseGrantWait, parseLockRequest } from '../src/index.js'

const acquire = { type: 'acquire', session: 3, request: 1, name: 'job', mode: 'shared', permits: 1, limit: 0, wait: false, lockDelayMs: 0 }

describe('parseLockRequest', () => {
  it('returns every client command typed, dropping fields it does not know', () => {
    expect(parseLockRequest({ type: 'open-session', ttlMs: 5000, extra: 1 })).toEqual({ type: 'open-session', ttlMs: 5000 })
    expect(parseLockRequest({ type: 'keepalive', session: 3 })).toEqual({ type: 'keepalive', session: 3 })
    expect(parseLockRequest({ type: 'close-session', session: 3 })).toEqual({ type: 'close-session', session: 3 })
    expect(parseLockRequest({ type: 'release', session: 3, request: 1, name: 'job' })).toEqual({ type: 'release', session: 3, request: 1, name: 'job' })
    expect(parseLockRequest(acquire)).toEqual(acquire)
    expect(parseGrantWait({ session: 3, request: 1, name: 'job', afterIndex: 9 })).toEqual({ session: 3, request: 1, name: 'job', afterIndex: 9 })
  })

  it('refuses the leader-only commands and malformed fields with ERR_INVALID_ARGUMENT naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'request'], [[1, 2], 'request'],
      [{ type: 'expire-session', session: 3, renewedIndex: 1 }, 'type'],
      [{ type: 'lift-delay', name: 'job', delayIndex: 1 }, 'type'],
      [{ type: 'open-session', ttlMs: 0 }, 'ttlMs'],
      [{ type: 'keepalive', session: '3' }, 'session'],
      [{ ...acquire, request: 1.5 }, 'request'],
      [{ ...acquire, name: 7 }, 'name'],
      [{ ...acquire, mode: 'both' }, 'mode'],
      [{ ...acquire, wait: 1 }, 'wait'],
      [{ ...acquire, limit: -1 }, 'limit'],
      [{ ...acquire, lockDelayMs: Number.NaN }, 'lockDelayMs']
    ]
    for (const [body, field] of cases) {
      expect(() => parseLockRequest(body)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field }) as Error)
    }
    expect(() => parseGrantWait({ session: 3, request: 1, name: 'job' })).toThrow(expect.objectContaining({ field: 'afterIndex' }) as Error)
  })

  it('either returns a command that encodes or throws ERR_INVALID_ARGUMENT, whatever it is given', () => {
    fc.assert(fc.property(fc.anything(), fc.record({ type: fc.constantFrom('open-session', 'keepalive', 'acquire', 'release'), session: fc.anything(), ttlMs: fc.anything() }), (any, shaped) => {
      for (const body of [any, shaped]) {
        try {
          expect(parseLockRequest(body).type).toMatch(/^(open-session|keepalive|close-session|acquire|release)$/)
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_INVALID_ARGUMENT')
        }
      }
    }), { seed: 4, numRuns: 300 })
  })
})
