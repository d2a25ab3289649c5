import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, createKvModel, formatReport } from '@synod/lincheck'
import { afterAll, describe, expect, it } from 'vitest'
import { createProcessCluster, findLeader, waitForLeader, type ProcessCluster } from './support/cluster.js'
import { missingAcknowledged, startKvWorkload } from './support/workload.js'

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

describe('a 3-node cluster while its leader is killed', () => {
  it(`keeps every acknowledged write and stays linearizable across ${KILLS} leader kills`, async () => {
    cluster = await createProcessCluster(root, 3)
    const { members } = cluster
    await waitForLeader(members)

    const workload = startKvWorkload(() => members, { clients: 4 })
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
    await workload.stop()

    await waitForLeader(members)
    const { recorder, acknowledged } = workload
    const missing = await missingAcknowledged(() => members, acknowledged)

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
