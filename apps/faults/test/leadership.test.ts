import { describe, expect, it } from 'vitest'
import type { InjectedFault } from '../src/nemesis/nemesis.js'
import { countLeadership, leaderChangesByFault, type LeaderSample } from '../src/report/summary.js'

const at = (atMs: number, leader: string | null, term: number): LeaderSample => ({ atMs, leader, term })

describe('leader changes', () => {
  const timeline = [
    at(0, null, 0), at(900, 'n1', 1),
    // A poll that saw no leader, then the same leader at the same term: not a change.
    at(5000, null, 0), at(5300, 'n1', 1),
    // Re-elected at a new term, then a new leader.
    at(9000, null, 0), at(9800, 'n1', 3), at(20_500, 'n2', 4),
    at(40_000, 'n3', 5)
  ]

  it('counts a new leader or term, not the polls in between that saw none', () => {
    expect(countLeadership(timeline)).toEqual({ changes: 3, gaps: 2 })
    expect(countLeadership([])).toEqual({ changes: 0, gaps: 0 })
  })

  it('files each change under the latest fault event before it, or quiet when that is old', () => {
    const faults: InjectedFault[] = [
      { kind: 'partition-isolate-leader', startMs: 8000, endMs: 12_000, detail: 'n1 isolated' },
      { kind: 'kill-leader', startMs: 20_000, endMs: 24_000, detail: 'kill -9 n1' }
    ]
    expect([...leaderChangesByFault(timeline, faults)]).toEqual([
      ['inject kill-leader', 1], ['inject partition-isolate-leader', 1], ['quiet', 1]
    ])
  })

  it('names every fault of a paired step, and a heal and an injection at the same moment', () => {
    const faults: InjectedFault[] = [
      { kind: 'packet-loss', startMs: 8000, endMs: 12_000, detail: '20%' },
      { kind: 'clock-drift', startMs: 8000, endMs: 12_000, detail: 'x4' },
      { kind: 'kill-one', startMs: 12_000, endMs: 16_000, detail: 'kill -9 n4' }
    ]
    expect([...leaderChangesByFault([at(0, 'n1', 1), at(9000, 'n2', 2), at(13_000, 'n3', 3)], faults)]).toEqual([
      ['heal clock-drift+packet-loss, inject kill-one', 1], ['inject clock-drift+packet-loss', 1]
    ])
  })
})
