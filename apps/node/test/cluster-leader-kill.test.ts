import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, createHistoryRecorder, createKvModel, formatReport, type PendingOp } from '@synod/lincheck'
import { afterAll, describe, expect, it } from 'vitest'
import { createProcessCluster, findLeader, waitForLeader, type ClusterMember, type ProcessCluster } from './support/cluster.js'

/**
 * Three real node processes on loopback; clients write and read while the leader is killed with
 * SIGKILL and restarted. Every acknowledged write must survive, and the recorded history must be
 * linearizable. The history is kept under test-results/histories/ for other checkers.
 */
const KILLS = Number(process.env.SYNOD_TEST_LEADER_KILLS ?? 10)
const root = mkdtempSync(join(tmpdir(), 'synod-cluster-'))
let cluster: ProcessCluster | undefined

afterAll(async () => {
  await cluster?.stopAll()
  rmSync(root, { recursive: true, force: true })
})

type Attempt =
  | { kind: 'done', status: number, json: Record<string, unknown> }
  | { kind: 'refused' } // certainly not processed: try another node
  | { kind: 'unknown' } // may have been processed

async function attempt (member: ClusterMember, method: string, path: string, body?: string): Promise<Attempt> {
  try {
    const res = await fetch(`http://${member.api}${path}`, { method, body, signal: AbortSignal.timeout(3000) })
    const json = await res.json() as Record<string, unknown>
    const code = (json.error as { code?: string } | undefined)?.code
    // Errors raised before a proposal entered the log mean it never happened.
    if (code === 'ERR_NOT_LEADER' || code === 'ERR_NOT_STARTED' || code === 'ERR_PROPOSAL_DROPPED' || code === 'ERR_OVERLOADED') return { kind: 'refused' }
    if (res.status >= 500) return { kind: 'unknown' }
    return { kind: 'done', status: res.status, json }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return cause?.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unknown' }
  }
}

/** Sends one logical request, moving between nodes only while no attempt could have taken effect. */
async function request (members: ClusterMember[], start: number, method: string, path: string, body?: string): Promise<Attempt> {
  for (let round = 0; round < 40; round++) {
    const member = members[(start + round) % members.length] as ClusterMember
    const result = await attempt(member, method, path, body)
    if (result.kind !== 'refused') return result
    if (round % members.length === members.length - 1) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { kind: 'refused' }
}

function settle (pending: PendingOp, result: Attempt, completion: () => { ok?: boolean, output?: string | null }): void {
  if (result.kind === 'refused') pending.fail()
  else if (result.kind === 'unknown') pending.timeout()
  else pending.complete(completion())
}

describe('a 3-node cluster while its leader is killed', () => {
  it(`keeps every acknowledged write and stays linearizable across ${KILLS} leader kills`, async () => {
    cluster = await createProcessCluster(root, 3)
    const { members } = cluster
    await waitForLeader(members)

    const recorder = createHistoryRecorder()
    const acknowledged = new Map<string, string>()
    let running = true
    const keys = ['x', 'y']

    async function registerClient (client: number): Promise<void> {
      let n = 0
      let lastSeen: string | null = null
      while (running) {
        n += 1
        const key = keys[(client + n) % keys.length] as string
        const choice = (client * 7 + n * 13) % 10
        const start = client + n
        if (choice < 4) {
          const value = `c${client}-${n}`
          const pending = recorder.invoke({ client, op: 'put', key, value })
          settle(pending, await request(members, start, 'PUT', `/v1/kv/${key}`, value), () => ({ ok: true }))
        } else if (choice < 7) {
          const pending = recorder.invoke({ client, op: 'get', key })
          const result = await request(members, start, 'GET', `/v1/kv/${key}`)
          settle(pending, result, () => {
            const json = result.kind === 'done' ? result.json : {}
            lastSeen = result.kind === 'done' && result.status === 200 ? json.value as string : null
            return { ok: true, output: lastSeen }
          })
        } else {
          const value = `c${client}-${n}`
          const pending = recorder.invoke({ client, op: 'cas', key, value, expected: lastSeen })
          const body = JSON.stringify({ value, expectedValue: lastSeen })
          const result = await request(members, start, 'POST', `/v1/kv/${key}/cas`, body)
          settle(pending, result, () => ({ ok: result.kind === 'done' && result.json.ok === true }))
        }
      }
    }

    async function ackClient (): Promise<void> {
      let n = 0
      while (running) {
        n += 1
        const key = `acked-${n}`
        const result = await request(members, n, 'PUT', `/v1/kv/${key}`, String(n))
        if (result.kind === 'done' && result.status === 200) acknowledged.set(key, String(n))
      }
    }

    const clients = [registerClient(1), registerClient(2), registerClient(3), registerClient(4), ackClient()]
    let kills = 0
    while (kills < KILLS) {
      await new Promise((resolve) => setTimeout(resolve, 800))
      const leader = await findLeader(members)
      if (leader === undefined) continue
      await cluster.kill(leader, 'SIGKILL')
      kills += 1
      await new Promise((resolve) => setTimeout(resolve, 600))
      cluster.start(leader)
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
    running = false
    await Promise.all(clients)

    await waitForLeader(members)
    const missing: string[] = []
    for (const [key, value] of acknowledged) {
      const result = await request(members, 0, 'GET', `/v1/kv/${key}`)
      if (result.kind !== 'done' || result.json.value !== value) missing.push(key)
    }

    const history = recorder.history()
    mkdirSync(join('test-results', 'histories'), { recursive: true })
    writeFileSync(join('test-results', 'histories', 'node-leader-kill.json'), recorder.toJSON())
    const model = createKvModel()
    const check = checkHistory(history, { model })
    if (check.verdict !== 'linearizable') console.error(formatReport(check, model))

    const completed = history.filter((op) => op.return !== null && op.failed !== true).length
    const summary = `${history.length} ops, ${completed} completed, ${acknowledged.size} acknowledged writes, ${missing.length} missing, verdict ${check.verdict}`
    expect(missing, summary).toEqual([])
    expect(check.verdict, summary).toBe('linearizable')
    expect(acknowledged.size, summary).toBeGreaterThanOrEqual(10)
    expect(completed, summary).toBeGreaterThanOrEqual(30)
  }, 240_000)
})
