import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, createKvModel, formatReport } from '@synod/lincheck'
import { createLockClient, type LockServer } from '@synod/lock'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { connectHttpLockServer } from '../src/cli/http-lock-server.js'
import { systemClock } from '../src/system/clock.js'
import { createProcessCluster, findLeader, waitForLeader, type ProcessCluster } from './support/cluster.js'
import { missingAcknowledged, startKvWorkload } from './support/workload.js'

/**
 * Three real `synod start --consensus paxos` processes: the same KV and lock service as on Raft.
 * Clients write and read while the leader is killed with SIGKILL a few times; each time another
 * node must take over, every acknowledged write must survive, the history must be linearizable,
 * and fencing tokens handed out across the kills must increase.
 */
const KILLS = 2
const root = mkdtempSync(join(tmpdir(), 'synod-paxos-'))
let cluster: ProcessCluster | undefined

afterAll(async () => {
  await cluster?.stopAll()
  rmSync(root, { recursive: true, force: true })
})

async function lockToken (endpoints: string[]): Promise<number> {
  const servers = (await Promise.all(endpoints.map(async (endpoint) => connectHttpLockServer(endpoint))))
    .filter((server): server is LockServer => server !== undefined)
  const client = createLockClient({ servers, clock: systemClock }, { ttlMs: 5000 })
  try {
    return await client.withLock('paxos-job', async (_signal, lock) => lock.token, { timeoutMs: 20_000 })
  } finally {
    await client.stop()
  }
}

describe('a 3-node Paxos cluster', () => {
  it(`serves KV and locks, elects a new leader after each of ${KILLS} leader kills, and stays linearizable`, async () => {
    cluster = await createProcessCluster(root, 3, 50, { consensus: 'paxos' })
    const { members } = cluster
    const first = await waitForLeader(members)
    const status = await (await fetch(`http://${first.api}/v1/status`)).json() as { engine?: string, ballot?: unknown }
    expect(status.engine).toBe('paxos')
    expect(status.ballot).toBeDefined()
    // Observability reads the same status and counters from Paxos as from Raft.
    const metrics = await (await fetch(`http://${first.api}/metrics`)).text()
    expect(metrics).toMatch(/^synod_consensus_info\{engine="paxos",node="[^"]+"\} 1$/m)
    // (Whether `first` still leads by now is up to the machine's load: only the shapes are checked.)
    expect(metrics).toMatch(/^synod_raft_is_leader\{node="[^"]+"\} [01]$/m)
    expect(metrics).toMatch(/^synod_raft_term\{node="[^"]+"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^synod_cluster_voters\{node="[^"]+"\} 3$/m)
    const clusterStatus = await (await fetch(`http://${first.api}/v1/cluster/status`)).json() as { members: Array<{ up: boolean, status?: { engine?: string } }> }
    expect(clusterStatus.members.map((m) => m.up && m.status?.engine)).toEqual(['paxos', 'paxos', 'paxos'])

    const endpoints = (): string[] => members.filter((m) => m.process !== undefined).map((m) => `http://${m.api}`)
    const tokenBefore = await lockToken(endpoints())
    const workload = startKvWorkload(() => members)
    // However the test ends, its clients stop, or they would keep the test worker busy.
    onTestFinished(async () => { await workload.stop() })

    const leaders: string[] = []
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 700))
      const leader = await waitForLeader(members)
      await cluster.kill(leader, 'SIGKILL')
      const next = await waitForLeader(members.filter((m) => m !== leader))
      leaders.push(`${leader.id}->${next.id}`)
      expect(next.id).not.toBe(leader.id)
      cluster.start(leader)
    }
    await new Promise((resolve) => setTimeout(resolve, 700))
    await workload.stop()
    const tokenAfter = await lockToken(endpoints())

    await waitForLeader(members)
    const missing = await missingAcknowledged(() => members, workload.acknowledged)
    const history = workload.recorder.history()
    mkdirSync(join('test-results', 'histories'), { recursive: true })
    writeFileSync(join('test-results', 'histories', 'node-paxos-leader-kill.json'), workload.recorder.toJSON())
    const model = createKvModel()
    const check = checkHistory(history, { model })
    if (check.verdict !== 'linearizable') console.error(formatReport(check, model))

    const completed = history.filter((op) => op.return !== null && op.failed !== true).length
    const summary = `${history.length} ops, ${completed} completed, ${workload.acknowledged.size} acknowledged, ${missing.length} missing, leaders ${leaders.join(' ')}, verdict ${check.verdict}`
    expect(missing, summary).toEqual([])
    expect(check.verdict, summary).toBe('linearizable')
    expect(workload.acknowledged.size, summary).toBeGreaterThanOrEqual(5)
    expect(completed, summary).toBeGreaterThanOrEqual(20)
    expect(tokenAfter).toBeGreaterThan(tokenBefore)
    expect(await findLeader(members)).toBeDefined()
  }, 120_000)
})
