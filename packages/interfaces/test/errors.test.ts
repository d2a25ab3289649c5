import { describe, expect, it } from 'vitest'
import {
  AbortError, BadFrameError, CompactedError, CorruptionError, InvalidArgumentError, NotLeaderError,
  TimeoutError, TooLargeError, TypedEventEmitter, UnauthorizedError, isStartable, isSynodError, throwIfAborted
} from '../src/index.js'

describe('errors', () => {
  it('carry stable codes on the instance and the class', () => {
    const cases = [
      [new NotLeaderError(), NotLeaderError.code, 'ERR_NOT_LEADER'],
      [new TimeoutError(), TimeoutError.code, 'ERR_TIMEOUT'],
      [new AbortError(), AbortError.code, 'ERR_ABORTED'],
      [new CorruptionError('bad crc'), CorruptionError.code, 'ERR_CORRUPT'],
      [new BadFrameError(), BadFrameError.code, 'ERR_BAD_FRAME'],
      [new UnauthorizedError(), UnauthorizedError.code, 'ERR_UNAUTHORIZED'],
      [new TooLargeError(10, 5), TooLargeError.code, 'ERR_TOO_LARGE'],
      [new InvalidArgumentError('x'), InvalidArgumentError.code, 'ERR_INVALID_ARGUMENT']
    ] as const
    for (const [error, staticCode, expected] of cases) {
      expect(error.code).toBe(expected)
      expect(staticCode).toBe(expected)
      expect(error.name).not.toBe('Error')
    }
  })

  it('carry what a caller needs', () => {
    const notLeader = new NotLeaderError(undefined, { leaderHint: 'n2', term: 7 })
    expect(notLeader.leaderHint).toBe('n2')
    expect(notLeader.term).toBe(7)
    const corrupt = new CorruptionError('checksum mismatch', { file: '00001.wal', offset: 4096 })
    expect(corrupt).toMatchObject({ file: '00001.wal', offset: 4096 })
    expect(new CompactedError(3, 10).firstIndex).toBe(10)
    expect(new TimeoutError('t', { indeterminate: true }).indeterminate).toBe(true)
  })

  it('isSynodError matches by code, not by class identity', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'ERR_NOT_LEADER' })
    expect(isSynodError(foreign)).toBe(true)
    expect(isSynodError(foreign, 'ERR_NOT_LEADER')).toBe(true)
    expect(isSynodError(foreign, 'ERR_TIMEOUT')).toBe(false)
    expect(isSynodError(new Error('plain'))).toBe(false)
    expect(isSynodError(Object.assign(new Error('posix'), { code: 'ENOENT' }))).toBe(false)
    expect(isSynodError(null)).toBe(false)
  })
})

describe('guards', () => {
  it('throwIfAborted throws ERR_ABORTED only once aborted', () => {
    const controller = new AbortController()
    expect(() => { throwIfAborted(controller.signal) }).not.toThrow()
    expect(() => { throwIfAborted(undefined) }).not.toThrow()
    controller.abort()
    expect(() => { throwIfAborted(controller.signal) }).toThrow(expect.objectContaining({ code: 'ERR_ABORTED' }))
  })

  it('isStartable recognises start/stop objects', () => {
    expect(isStartable({ start: async () => {}, stop: async () => {} })).toBe(true)
    expect(isStartable({ start: async () => {} })).toBe(false)
    expect(isStartable(undefined)).toBe(false)
  })
})

describe('TypedEventEmitter', () => {
  it('delivers the typed detail to listeners until removed', () => {
    const emitter = new TypedEventEmitter<{ leader: { id: string } }>()
    const seen: string[] = []
    const listener = (event: CustomEvent<{ id: string }>): void => { seen.push(event.detail.id) }
    emitter.addEventListener('leader', listener)
    emitter.safeDispatch('leader', { id: 'n1' })
    emitter.removeEventListener('leader', listener)
    emitter.safeDispatch('leader', { id: 'n2' })
    expect(seen).toEqual(['n1'])
  })
})
