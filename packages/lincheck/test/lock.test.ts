import { describe, expect, it } from 'vitest'
import { checkHistory, createLockModel, formatReport, normalizeHistory, type HistoryOpInit } from '../src/index.js'

const model = createLockModel()
const check = (history: HistoryOpInit[]): ReturnType<typeof checkHistory> => checkHistory(history, { model })
const acquire = (client: number, token: number, call: number, ret: number | null): HistoryOpInit =>
  ({ client, op: 'acquire', key: 'L', ok: true, output: token, call, return: ret })
const refused = (client: number, call: number, ret: number): HistoryOpInit => ({ client, op: 'acquire', key: 'L', ok: false, call, return: ret })
const release = (client: number, token: number | null, call: number, ret: number | null, ok = true): HistoryOpInit =>
  ({ client, op: 'release', key: 'L', value: token, ok, call, return: ret })
const holder = (client: number, seen: { client: number, token: number } | null, call: number, ret: number): HistoryOpInit =>
  ({ client, op: 'holder', key: 'L', output: seen, call, return: ret })
const expire = (client: number, call: number, ret: number): HistoryOpInit => ({ client, op: 'expire', key: 'L', call, return: ret })

describe('lock model', () => {
  it('accepts hand-offs with increasing fencing tokens', () => {
    expect(check([acquire(1, 1, 0, 10), release(1, 1, 20, 30), acquire(2, 2, 40, 50), refused(3, 60, 70), release(2, 2, 80, 90), acquire(3, 7, 100, 110)]).verdict).toBe('linearizable')
  })

  it('rejects two clients holding the lock at once', () => {
    const result = check([acquire(1, 1, 0, 10), acquire(2, 2, 20, 30)])
    expect(result.verdict).toBe('not-linearizable')
    expect(result.violation!.candidates.map((candidate) => candidate.reason)).toContain('was granted, but the lock was held by client 1 with token 1')
    expect(formatReport(result, model)).toContain('acquire L by client 2 -> granted, token 2')
  })

  it('accepts overlapping grants when a release fits between them', () => {
    expect(check([acquire(1, 1, 0, 10), release(1, 1, 20, 60), acquire(2, 2, 30, 70)]).verdict).toBe('linearizable')
  })

  it('rejects a fencing token that does not increase', () => {
    const result = check([acquire(1, 5, 0, 10), release(1, 5, 20, 30), acquire(2, 5, 40, 50)])
    expect(result.verdict).toBe('not-linearizable')
    expect(result.violation!.candidates[0]!.reason).toBe('was granted token 5, but token 5 was already granted before (fencing tokens must increase)')
    expect(check([acquire(1, 5, 0, 10), release(1, 5, 20, 30), acquire(2, 3, 40, 50)]).verdict).toBe('not-linearizable')
  })

  it('rejects a refusal while the lock was free, and a release by a client that did not hold it', () => {
    expect(check([refused(1, 0, 10)]).verdict).toBe('not-linearizable')
    expect(check([acquire(1, 1, 0, 10), release(2, 1, 20, 30)]).verdict).toBe('not-linearizable')
    expect(check([acquire(1, 1, 0, 10), release(1, 1, 20, 30, false)]).verdict).toBe('not-linearizable')
    expect(check([acquire(1, 1, 0, 10), release(2, null, 20, 30, false)]).verdict).toBe('linearizable')
  })

  it('frees the lock when the holder\'s session expires', () => {
    expect(check([acquire(1, 1, 0, 10), expire(1, 20, 30), acquire(2, 2, 40, 50)]).verdict).toBe('linearizable')
    expect(check([acquire(1, 1, 0, 10), expire(3, 20, 30), acquire(2, 2, 40, 50)]).verdict).toBe('not-linearizable')
  })

  it('checks reads of the holder', () => {
    expect(check([acquire(1, 4, 0, 10), holder(2, { client: 1, token: 4 }, 20, 30), release(1, 4, 40, 50), holder(2, null, 60, 70)]).verdict).toBe('linearizable')
    expect(check([acquire(1, 4, 0, 10), holder(2, { client: 1, token: 3 }, 20, 30)]).verdict).toBe('not-linearizable')
    expect(check([acquire(1, 4, 0, 10), holder(2, null, 20, 30)]).verdict).toBe('not-linearizable')
  })

  describe('an acquire that timed out', () => {
    it('may never have been granted', () => {
      expect(check([acquire(1, 0, 0, null), acquire(2, 2, 100, 110)]).verdict).toBe('linearizable')
    })

    it('may have been granted under a token nobody saw, learned later from a read', () => {
      const history = [acquire(1, 0, 0, null), holder(2, { client: 1, token: 9 }, 100, 110), expire(1, 120, 130), acquire(2, 10, 140, 150)]
      expect(check(history).verdict).toBe('linearizable')
      // Once client 1 is seen holding it, nobody else may get it until client 1's session ends.
      expect(check([acquire(1, 0, 0, null), holder(2, { client: 1, token: 9 }, 100, 110), acquire(2, 10, 140, 150)]).verdict).toBe('not-linearizable')
      // The unseen token was above 9, so a later grant of 9 is a regression.
      expect(check([acquire(1, 0, 0, null), holder(2, { client: 1, token: 9 }, 100, 110), expire(1, 120, 130), acquire(2, 9, 140, 150)]).verdict).toBe('not-linearizable')
    })
  })

  it('checks each lock on its own', () => {
    const result = check([acquire(1, 1, 0, 10), { ...acquire(2, 1, 20, 30), key: 'M' }])
    expect(result.verdict).toBe('linearizable')
    expect(result.keys.map((key) => key.key).sort()).toEqual(['L', 'M'])
  })

  it('rejects malformed lock operations with the index and the problem', () => {
    expect(() => normalizeHistory([acquire(1, 1, 0, 10), { client: 1, op: 'acquire', key: 'L', ok: true, output: 'x', call: 20, return: 30 }], model))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', index: 1, message: 'op 1: a granted acquire needs its fencing token as an integer "output", got "x"' }))
    expect(() => normalizeHistory([{ client: 1, op: 'get', key: 'L', call: 0, return: 1 }], model))
      .toThrow(expect.objectContaining({ index: 0, field: 'op' }))
    expect(() => normalizeHistory([{ client: 1, op: 'holder', key: 'L', output: { client: 1 }, call: 0, return: 1 }], model))
      .toThrow(/op 0: a holder read's "output" must be/)
  })
})
