import { describe, expect, it } from 'vitest'
import { readMembers, removeMember, restoreVoter, type AdminCall, type AdminReply, type MemberEntry, type MembershipComponents } from '../src/nemesis/membership.js'

/** A fake leader holding a configuration, answering the documented /v1/members requests. */
function fakeCluster (initial: MemberEntry[], options: { refuseFirst?: number, commit?: Record<string, number | undefined>, loseRemoveReply?: boolean, statusCommit?: number, status?: Record<string, Record<string, unknown>> } = {}) {
  let members = [...initial]
  let refusals = options.refuseFirst ?? 0
  const calls: string[] = []
  let clock = 0
  const admin: AdminCall = async (method, path, body, call) => {
    const request = body as { op: string, id: string, learner?: boolean } | undefined
    calls.push(method === 'GET' ? 'GET' : `${request?.op} ${request?.id}`)
    if (method === 'GET' && path === '/v1/status') {
      const status = options.status?.[call?.node ?? '']
      if (status !== undefined) return { outcome: 'ok', node: call?.node, json: status }
      return options.statusCommit === undefined ? { outcome: 'unknown', error: 'TimeoutError' } : { outcome: 'ok', json: { commitIndex: options.statusCommit } }
    }
    // The first node asked is a follower with an old view (the initial configuration); the leader is n1.
    if (method === 'GET') return call?.node === 'n1' ? { outcome: 'ok', node: 'n1', json: { members, leader: 'n1' } } : { outcome: 'ok', node: 'n2', json: { members: initial, leader: 'n1' } }
    if (refusals > 0) { refusals -= 1; return { outcome: 'refused', status: 409, code: 'ERR_INVALID_MEMBERSHIP' } }
    const id = request?.id ?? ''
    if (request?.op === 'remove') {
      members = members.filter((m) => m.id !== id)
      if (options.loseRemoveReply === true) return { outcome: 'unknown', error: 'TimeoutError' }
    }
    if (request?.op === 'add') members.push({ id, role: request.learner === true ? 'learner' : 'voter' })
    if (request?.op === 'promote') members = members.map((m) => m.id === id ? { id, role: 'voter' } : m)
    return { outcome: 'ok', status: 200, json: { members, leader: 'n1' } } satisfies AdminReply
  }
  const components: MembershipComponents = {
    admin,
    commitIndex: (id) => options.commit === undefined ? 100 : options.commit[id],
    sleep: async (ms) => { clock += ms },
    now: () => clock
  }
  return { components, calls, members: () => members }
}

const voters = (...ids: string[]): MemberEntry[] => ids.map((id) => ({ id, role: 'voter' }))
const target = { id: 'n3', peerAddress: '10.77.0.13:7000', apiUrl: 'http://10.77.0.13:8000' }

describe('membership nemesis steps', () => {
  it('removes a member and brings it back as a learner, then a voter', async () => {
    const fake = fakeCluster(voters('n1', 'n2', 'n3'))
    expect((await removeMember(fake.components, 'n3', 1000)).state).toBe('removed')
    const result = await restoreVoter(fake.components, target, 10_000)
    expect(result.restored).toBe(true)
    expect(fake.calls.filter((c) => c !== 'GET')).toEqual(['remove n3', 'add n3', 'promote n3'])
    expect(fake.members()).toContainEqual({ id: 'n3', role: 'voter' })
  })

  it('reads the configuration back when a removal timed out, and does not add twice', async () => {
    const fake = fakeCluster(voters('n1', 'n2', 'n3'), { loseRemoveReply: true })
    expect((await removeMember(fake.components, 'n3', 1000)).state).toBe('removed')
    await restoreVoter(fake.components, target, 10_000)
    expect(fake.calls.filter((c) => c.startsWith('add'))).toHaveLength(1)
  })

  it('waits for the learner to catch up before promoting it', async () => {
    const commit: Record<string, number> = { n1: 100, n3: 40 }
    const fake = fakeCluster([...voters('n1', 'n2'), { id: 'n3', role: 'learner' }], { commit })
    const restoring = restoreVoter(fake.components, target, 2000)
    const result = await restoring
    expect(result.restored).toBe(false)
    expect(fake.calls).not.toContain('promote n3')
    commit.n3 = 100
    expect((await restoreVoter(fake.components, target, 2000)).restored).toBe(true)
  })

  it('asks the learner directly when the status poll has no answer from it', async () => {
    const learner = [...voters('n1', 'n2'), { id: 'n3', role: 'learner' as const }]
    expect((await restoreVoter(fakeCluster(learner, { commit: { n1: 100 } }).components, target, 2000)).restored).toBe(false)
    expect((await restoreVoter(fakeCluster(learner, { commit: { n1: 100 }, statusCommit: 100 }).components, target, 2000)).restored).toBe(true)
  })

  it('says why a learner did not catch up, from its own status and the leader\'s progress record for it', async () => {
    const learner = [...voters('n1', 'n2'), { id: 'n3', role: 'learner' as const }]
    const status = {
      n3: { role: 'learner', term: 5, leader: 'n1', commitIndex: 0, lastIndex: 0, config: {} },
      n1: { role: 'leader', commitIndex: 1123, progress: { n2: { state: 'replicate', match: 1123, next: 1124 }, n3: { state: 'probe', match: 0, next: 1124, paused: true } } }
    }
    const result = await restoreVoter(fakeCluster(learner, { commit: { n1: 1123 }, status }).components, target, 2000)
    expect(result.restored).toBe(false)
    expect(result.steps.at(-1)).toBe('n3: role=learner term=5 leader=n1 commitIndex=0 lastIndex=0; leader n1: commit 1123, progress of n3: state=probe match=0 next=1124 paused=true')
    // An unreachable learner reads differently.
    const silent = await restoreVoter(fakeCluster(learner, { commit: { n1: 1123 }, status: { n1: status.n1 } }).components, target, 2000)
    expect(silent.steps.at(-1)).toMatch(/^n3: no status \(TimeoutError\); leader n1: commit 1123, progress of n3: state=probe/)
  })

  it('counts a promotion that lands as the deadline passes as restored', async () => {
    const fake = fakeCluster([...voters('n1', 'n2'), { id: 'n3', role: 'learner' }])
    // The promotion takes the whole deadline to answer (a slow commit on a loaded machine).
    const slow: MembershipComponents = {
      ...fake.components,
      admin: async (method, path, body, call) => {
        const reply = await fake.components.admin(method, path, body, call)
        if ((body as { op?: string } | undefined)?.op === 'promote') await fake.components.sleep(5000)
        return reply
      }
    }
    expect(await restoreVoter(slow, target, 2000)).toMatchObject({ restored: true, steps: ['caught up to 100, promoted'] })
  })

  it('retries a change the leader refused (another change pending)', async () => {
    const fake = fakeCluster(voters('n1', 'n2'), { refuseFirst: 2 })
    const result = await restoreVoter(fake.components, target, 10_000)
    expect(result.restored).toBe(true)
    expect(result.steps[0]).toBe('add refused (ERR_INVALID_MEMBERSHIP)')
  })

  it('takes the configuration from the leader, not from the lagging node that answered first', async () => {
    const fake = fakeCluster(voters('n1', 'n2', 'n3'))
    await removeMember(fake.components, 'n3', 1000)
    // The follower still lists n3; the leader does not, so n3 is added back.
    expect((await restoreVoter(fake.components, target, 10_000)).steps[0]).toBe('added as learner')
    expect((await readMembers(fake.components))?.members.map((m) => m.id)).toEqual(['n1', 'n2', 'n3'])
  })

  it('leaves a member that is still a voter alone', async () => {
    const fake = fakeCluster(voters('n1', 'n2', 'n3'))
    expect(await restoreVoter(fake.components, target, 10_000)).toMatchObject({ restored: true, steps: [] })
  })
})
