import { describe, expect, it } from 'vitest'
import { GroupState } from '../../src/journal/group-state.js'

/** The location an entry gets in this test, derived from its index and term. */
function locationOf (index: number, term: number): { seq: number, offset: number, length: number, typeCode: number, term: number } {
  return { seq: 1 + Math.floor(index / 700), offset: 16 + (index % 700) * 50, length: index % 37, typeCode: 1 + (index % 3), term }
}

describe('group index', () => {
  it('keeps locations and terms right through growth, compaction (with reclaiming), truncation and shrinking', () => {
    const group = new GroupState(1)
    const terms = new Map<number, number>()
    const put = (index: number, term: number): void => {
      const location = locationOf(index, term)
      expect(group.put(index, location.seq, location.offset, location.length, location.typeCode, term)).toBe(true)
      terms.set(index, term)
    }
    const check = (): void => {
      for (let index = group.compactedIndex + 1; index <= group.lastIndex(); index += 97) {
        expect(group.location(index)).toEqual(locationOf(index, terms.get(index) as number))
      }
      if (group.lastIndex() > group.compactedIndex) {
        expect(group.location(group.lastIndex())).toEqual(locationOf(group.lastIndex(), terms.get(group.lastIndex()) as number))
        expect(group.oldestSeq()).toBe(locationOf(group.compactedIndex + 1, 0).seq)
      }
    }
    for (let index = 1; index <= 5000; index++) put(index, 1 + Math.floor(index / 1000))
    check()
    group.compact(1500, 2)
    expect(group.compactedIndex + 1).toBe(1501)
    expect(group.term(1500)).toBe(2)
    expect(group.term(1499)).toBeUndefined()
    check()
    group.compact(3000, 4)
    check()
    group.truncateFrom(4200)
    expect(group.lastIndex()).toBe(4199)
    for (let index = 4100; index <= 6000; index++) put(index, 9)
    check()
    group.compact(5990, 9)
    expect(group.liveEntries()).toBe(10)
    check()
    group.compact(7000, 10)
    expect(group.lastIndex()).toBe(7000)
    expect(group.liveEntries()).toBe(0)
    expect(group.oldestSeq()).toBeUndefined()
    put(7001, 10)
    check()
  })

  it('refuses an entry that would leave a gap, and during recovery rebases a group whose prefix was collected', () => {
    const group = new GroupState(2)
    expect(group.put(1, 1, 16, 3, 1, 1)).toBe(true)
    expect(group.put(3, 1, 40, 3, 1, 1)).toBe(false)
    const recovered = new GroupState(3)
    expect(recovered.put(278, 6, 16, 3, 1, 9, true)).toBe(true)
    expect(recovered.unexplainedBase).toBe(277)
    recovered.truncateFrom(232)
    expect(recovered.unexplainedBase).toBe(231)
    expect(recovered.put(232, 6, 60, 3, 1, 10, true)).toBe(true)
    recovered.compact(231, 8)
    expect(recovered.unexplainedBase).toBeUndefined()
    expect(recovered.term(231)).toBe(8)
    expect(recovered.term(232)).toBe(10)
    // A compaction, then entries past a gap (the entries between were collected): accepted only
    // while recovering, and unexplained until a later compaction covers the gap.
    const afterGap = new GroupState(4)
    afterGap.compact(2, 1)
    expect(afterGap.put(23, 2, 16, 3, 1, 1)).toBe(false)
    expect(afterGap.put(23, 2, 16, 3, 1, 1, true)).toBe(true)
    expect(afterGap.unexplainedBase).toBe(22)
    afterGap.compact(3, 1)
    expect(afterGap.unexplainedBase).toBe(22)
    afterGap.compact(22, 1)
    expect(afterGap.unexplainedBase).toBeUndefined()
    expect(afterGap.term(23)).toBe(1)
  })
})
