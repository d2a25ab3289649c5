import { NotLeaderError, TypedEventEmitter, type ClusterConfig, type ReplicatedLog, type ReplicatedLogEvents, type StateMachine } from '@synod/interfaces'

/** A single-node ReplicatedLog for API tests: every proposal commits and applies at once. */
export function createLocalLog<R> (stateMachine: StateMachine<R>, id = 'n1'): ReplicatedLog<R> & { setLeader(leader: boolean, hint?: string): void } {
  const events = new TypedEventEmitter<ReplicatedLogEvents>()
  const config: ClusterConfig = { voters: [id], learners: [], addresses: {} }
  let index = 0
  let leader = true
  let hint: string | undefined
  const check = (): void => { if (!leader) throw new NotLeaderError(undefined, { leaderHint: hint, term: 1 }) }
  return {
    id,
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events),
    start: async () => {},
    stop: async () => {},
    async propose (data) {
      check()
      index += 1
      return { index, term: 1, result: stateMachine.apply({ index, term: 1, data }) }
    },
    async readBarrier () { check(); return { index, term: 1 } },
    status: () => ({ id, role: leader ? 'leader' : 'follower', term: 1, leader: leader ? id : hint, commitIndex: index, appliedIndex: index, firstIndex: 1, lastIndex: index, config }),
    isLeader: () => leader,
    changeMembership: async () => config,
    transferLeadership: async () => {},
    snapshot: async () => ({ index, term: 1, config, size: 0, checksum: '' }),
    setLeader (value, leaderHint) { leader = value; hint = leaderHint }
  }
}
