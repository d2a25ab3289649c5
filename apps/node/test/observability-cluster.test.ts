import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Logger } from '@synod/interfaces'
import { createSynodNode, type SynodNode } from '../src/node.js'
import { createObservability, type ClusterStatus, type Observability } from '../src/observability/index.js'
import { freePorts } from './support/cluster.js'

const silent: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child: () => silent }

interface Member { id: string, node: SynodNode, observability: Observability, server: Server, url: string }

/** Value of one sample (`name` or `name{labels}` without the node label) in an exposition. */
function sample (text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line)
    if (match === null) continue
    const labels = match[2]!.split(',').filter((pair) => !pair.startsWith('node=')).join(',')
    if ((labels === '' ? match[1] : `${match[1]!}{${labels}}`) === series) return Number(match[3])
  }
  return undefined
}

// Three real nodes (Raft, transport-ws, file storage) in one process; each node's observability
// routes are served beside its API, and the status proxy reads the real `/v1/status` of the others.
describe('observability of a real three-node cluster', () => {
  let root: string
  const members: Member[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'synod-observability-'))
    const ports = await freePorts(6)
    const ids = ['n1', 'n2', 'n3']
    const peers = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]!}`]))
    const apiUrls = new Map(ids.map((id, i) => [id, `http://127.0.0.1:${ports[3 + i]!}`]))
    for (const [i, id] of ids.entries()) {
      const node = createSynodNode({
        id,
        peerListen: { host: '127.0.0.1', port: ports[i]! },
        apiListen: { host: '127.0.0.1', port: ports[3 + i]! },
        members: peers,
        apiUrls,
        dataDir: join(root, id),
        secret: 'observability-test-secret-0123',
        // 100 ms (a 1 s election timeout): with 20 ms, a loaded 2-core machine starves heartbeats
        // long enough for leadership to move in the middle of the test.
        tickMs: 100,
        logger: silent
      })
      const observability = createObservability({ nodeId: id, apiUrls, statusTimeoutMs: 5000, processMetrics: false }, { raft: node.raft, transport: node.transport, kv: node.kv, logger: silent })
      const server = createServer((req, res) => {
        if (!observability.handle(req, res)) res.writeHead(404).end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      members.push({ id, node, observability, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
    }
    await Promise.all(members.map(async (member) => { await member.node.start() }))
  })

  afterAll(async () => {
    for (const member of members) {
      member.server.closeAllConnections()
      await new Promise((resolve) => member.server.close(resolve))
      await member.node.stop()
    }
    await rm(root, { recursive: true, force: true })
  })

  async function until (condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
  }

  async function leader (): Promise<Member> {
    for (;;) {
      const found = members.find((member) => member.node.raft.isLeader())
      if (found !== undefined) return found
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  it('reports the leader, replication, KV keys and every member', async () => {
    const elected = await leader()
    const apiUrl = `http://127.0.0.1:${(elected.node.api.address() as AddressInfo).port}`
    for (let i = 0; i < 5; i++) {
      const put = await fetch(`${apiUrl}/v1/kv/key-${i}`, { method: 'PUT', body: `value-${i}` })
      expect(put.status).toBe(200)
    }
    // Followers learn the new commit index with the next append; wait until they have applied it,
    // and until the leader has heard each follower's acknowledgement: a follower can apply an entry
    // before the leader processes its reply, so applied everywhere does not yet mean matched.
    const target = elected.node.raft.status().commitIndex
    await until(() => members.every((member) => member.node.raft.status().appliedIndex >= target) &&
      members.every((member) => member === elected || (elected.node.raft.status().progress[member.id]?.match ?? 0) >= target))

    const text = await (await fetch(`${elected.url}/metrics`)).text()
    expect(sample(text, 'synod_raft_is_leader')).toBe(1)
    expect(sample(text, 'synod_raft_term')).toBe(elected.node.raft.status().term)
    expect(sample(text, 'synod_raft_commit_index')).toBeGreaterThanOrEqual(target)
    expect(sample(text, 'synod_kv_keys')).toBe(5)
    expect(sample(text, 'synod_transport_messages_sent_total')).toBeGreaterThan(0)
    for (const follower of members.filter((member) => member !== elected)) {
      expect(sample(text, `synod_raft_peer_match_index{peer="${follower.id}"}`)).toBeGreaterThanOrEqual(target)
    }
    const followerText = await (await fetch(`${members.find((member) => member !== elected)!.url}/metrics`)).text()
    expect(sample(followerText, 'synod_raft_is_leader')).toBe(0)
    expect(sample(followerText, 'synod_kv_keys')).toBe(5)

    const cluster = await (await fetch(`${elected.url}/v1/cluster/status`)).json() as ClusterStatus
    expect(cluster.members.map((member) => [member.id, member.up])).toEqual([['n1', true], ['n2', true], ['n3', true]])
    const roles = cluster.members.map((member) => member.up ? (member.status as { role: string }).role : 'down')
    expect(roles.filter((role) => role === 'leader')).toHaveLength(1)
    expect(roles[members.indexOf(elected)]).toBe('leader')
  })

  it('shows a stopped member as down', async () => {
    const elected = await leader()
    const stopped = members.find((member) => member !== elected)!
    await stopped.node.stop()
    const cluster = await (await fetch(`${elected.url}/v1/cluster/status`)).json() as ClusterStatus
    const row = cluster.members.find((member) => member.id === stopped.id)
    expect(row).toMatchObject({ up: false, error: 'ECONNREFUSED' })
    expect(cluster.members.filter((member) => member.up)).toHaveLength(2)
  })
})
