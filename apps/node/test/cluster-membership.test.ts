import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, createKvModel, formatReport } from '@synod/lincheck'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { createProcessCluster, waitForLeader, type ClusterMember, type ProcessCluster } from './support/cluster.js'
import { eventually } from './support/eventually.js'
import { missingAcknowledged, request, startKvWorkload } from './support/workload.js'

/**
 * Runtime membership on real processes, on both engines: a 3-node cluster adds a fourth node
 * (started with --join) as a learner, promotes it, removes a founding voter, and keeps serving
 * linearizable writes throughout.
 */
interface MembersReply { members: Array<{ id: string, role: string, peerAddress?: string, apiUrl?: string }>, leader?: string }
type Reply = { status: number, body: Record<string, unknown> }

const roots: string[] = []
const clusters: ProcessCluster[] = []
afterAll(async () => {
  await Promise.all(clusters.map(async (cluster) => { await cluster.stopAll() }))
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

async function call (member: ClusterMember, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`http://${member.api}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(35_000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

/** Sends a membership change to the leader, following the cluster to a new leader if it moves. */
async function change (members: ClusterMember[], body: unknown): Promise<Reply> {
  for (let round = 0; round < 20; round++) {
    const leader = await waitForLeader(members)
    const reply = await call(leader, 'POST', '/v1/members', body)
    if ((reply.body.error as { code?: string } | undefined)?.code !== 'ERR_NOT_LEADER') return reply
  }
  throw new Error('no leader accepted the change')
}

/**
 * Applies a change and returns the membership once it reads `expected`. A change interrupted by a
 * leader change (421, 5xx) may or may not have been applied, so the outcome is read back rather
 * than the request blindly retried (a second add of the same member is refused).
 */
async function converge (members: ClusterMember[], body: unknown, expected: string): Promise<MembersReply> {
  for (let round = 0; round < 5; round++) {
    const reply = await change(members, body)
    if (reply.status === 200 && roles(reply.body as unknown as MembersReply) === expected) return reply.body as unknown as MembersReply
    const current = (await call(await waitForLeader(members), 'GET', '/v1/members')).body as unknown as MembersReply
    if (roles(current) === expected) return current
    const message = (reply.body.error as { message?: string } | undefined)?.message ?? ''
    if ((reply.status === 409 && !message.includes('pending')) || reply.status === 400) throw new Error(`change ${JSON.stringify(body)} refused: ${JSON.stringify(reply.body)}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`membership never became ${expected}`)
}


const roles = (reply: MembersReply): string => reply.members.map((m) => `${m.id}:${m.role}`).join(',')

describe.each(['raft', 'paxos'] as const)('membership changes on %s', (consensus) => {
  it('adds a learner, promotes it, removes a founding voter, and keeps serving', async () => {
    const root = mkdtempSync(join(tmpdir(), `synod-members-${consensus}-`))
    roots.push(root)
    const cluster = await createProcessCluster(root, 3, 50, { consensus })
    clusters.push(cluster)
    const members = [...cluster.members]
    const serving = (): ClusterMember[] => members.filter((m) => m.process !== undefined)
    const leader = await waitForLeader(members)

    const listed = (await call(leader, 'GET', '/v1/members')).body as unknown as MembersReply
    expect(roles(listed)).toBe('n1:voter,n2:voter,n3:voter')
    expect(listed.leader).toBe(leader.id)

    const workload = startKvWorkload(serving, { clients: 2 })
    // However the test ends, its clients stop, or they would keep the test worker busy.
    onTestFinished(async () => { await workload.stop() })
    const n4 = await cluster.spawnJoiner('n4')

    // A follower refuses with ERR_NOT_LEADER. (Should leadership have moved to it meanwhile, the
    // request, which asks for an impossible change, is refused by the engine instead.)
    const follower = members.find((m) => m !== leader) as ClusterMember
    const refused = await call(follower, 'POST', '/v1/members', { op: 'promote', id: 'n9' })
    expect(['ERR_NOT_LEADER', 'ERR_INVALID_MEMBERSHIP'], JSON.stringify(refused.body)).toContain((refused.body.error as { code?: string } | undefined)?.code)
    expect(refused.status).toBe((refused.body.error as { code?: string }).code === 'ERR_NOT_LEADER' ? 421 : 409)
    const bad = await call(leader, 'POST', '/v1/members', { op: 'add', id: 'n4', peerAddress: 'not an address' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })

    const added = await converge(members, { op: 'add', id: 'n4', peerAddress: n4.peer, learner: true, apiUrl: `http://${n4.api}` }, 'n1:voter,n2:voter,n3:voter,n4:learner')
    expect(added.members.find((m) => m.id === 'n4')?.peerAddress).toBe(`ws://${n4.peer}`)
    members.push(n4)

    // The joiner learns the configuration and the data from the leader.
    await eventually(async () => (await call(n4, 'GET', '/v1/members?consistency=serializable')).body as unknown as MembersReply, (r) => roles(r) === 'n1:voter,n2:voter,n3:voter,n4:learner', 'n4 learning its configuration')
    await eventually(async () => (await call(n4, 'GET', '/v1/kv/acked-1?consistency=serializable')).status, (status) => status === 200, 'n4 catching up')

    await converge(members, { op: 'promote', id: 'n4' }, 'n1:voter,n2:voter,n3:voter,n4:voter')
    // Promoting what is not a learner is refused with the engine's typed error.
    const again = await change(members, { op: 'promote', id: 'n4' })
    expect(again.status).toBe(409)
    expect(again.body.error).toMatchObject({ code: 'ERR_INVALID_MEMBERSHIP' })

    // Remove a founding voter that does not lead, then stop it: n4 now counts in every quorum.
    const current = await waitForLeader(members)
    const victim = members.find((m) => m.id !== current.id && m.id !== 'n4') as ClusterMember
    await converge(members, { op: 'remove', id: victim.id }, ['n1', 'n2', 'n3', 'n4'].filter((id) => id !== victim.id).map((id) => `${id}:voter`).join(','))
    await cluster.kill(victim, 'SIGTERM')
    members.splice(members.indexOf(victim), 1)
    // A linearizable read of the membership on the newest member sees the removal.
    const seen = await eventually(async () => await call(n4, 'GET', '/v1/members'), (reply) => reply.status === 200, 'a linearizable membership read on n4')
    expect((seen.body as unknown as MembersReply).members.map((m) => m.id)).toEqual(members.map((m) => m.id).sort())
    // n4's API URL, given with the add to one node, is replicated: every member lists it (n4
    // itself was started with no --api-peers at all).
    for (const member of members) {
      const listed = await eventually(async () => ((await call(member, 'GET', '/v1/members')).body as unknown as MembersReply).members,
        (list) => list.some((m) => m.id === 'n4' && m.apiUrl === `http://${n4.api}`), `n4's apiUrl on ${member.id}`)
      expect(listed.find((m) => m.id === victim.id)).toBeUndefined()
    }

    const ackedBefore = workload.acknowledged.size
    await eventually(async () => workload.acknowledged.size, (size) => size >= ackedBefore + 5, 'writes after the removal')
    await workload.stop()

    const n4Status = (await call(n4, 'GET', '/v1/status')).body as { config: { voters: string[] }, role: string }
    expect([...n4Status.config.voters].sort()).toEqual(members.map((m) => m.id).sort())
    const missing = await missingAcknowledged(serving, workload.acknowledged)
    const model = createKvModel()
    const check = checkHistory(workload.recorder.history(), { model })
    if (check.verdict !== 'linearizable') console.error(formatReport(check, model))
    expect(missing).toEqual([])
    expect(check.verdict).toBe('linearizable')
    // The history ran on the membership as it changed: make sure it was not empty.
    expect(workload.recorder.history().length).toBeGreaterThan(10)
    expect(await request(serving, 0, 'GET', '/v1/kv/acked-1')).toMatchObject({ kind: 'done', status: 200 })
  }, 90_000)
})
