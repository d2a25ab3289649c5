import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Logger, ReplicatedLog } from '@synod/interfaces'
import { NotLeaderError } from '@synod/interfaces'
import type { SynodNode } from '../src/node.js'
import { createObservability, type ObservabilityComponents, type ObservabilityInit } from '../src/observability/index.js'

const silent: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child: () => silent }

function fakeComponents () {
  const status = {
    id: 'n1',
    role: 'follower' as 'follower' | 'leader' | 'candidate' | 'pre-candidate' | 'learner',
    term: 1,
    leader: 'n2' as string | undefined,
    commitIndex: 10,
    appliedIndex: 9,
    firstIndex: 1,
    lastIndex: 11,
    progress: {} as Record<string, { match: number, next: number }>
  }
  const raftMetrics = { leaderChanges: 1, proposals: 0, proposalsFailed: 0 }
  const stats = { messagesSent: 0, messagesReceived: 0, dropped: 0, queuedMessages: 0 }
  const kv = { keys: 0, revision: 0 }
  const components: ObservabilityComponents = {
    raft: { status: () => ({ ...status, progress: { ...status.progress } }), metrics: () => ({ ...raftMetrics }) },
    transport: { stats: () => ({ ...stats }) },
    kv: { size: () => kv.keys, revision: () => kv.revision },
    logger: silent
  }
  return { components, status, raftMetrics, stats, kv }
}

/** Parses the exposition into `name{label="v",...}` (labels as written, `node` dropped) → value. */
function parse (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`unparsable line: ${line}`)
    const labels = (match[2] ?? '').split(',').filter((pair) => pair !== '' && !pair.startsWith('node=')).join(',')
    samples.set(labels === '' ? match[1]! : `${match[1]!}{${labels}}`, Number(match[3]))
  }
  return samples
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(async (server) => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }))
})

async function listen (server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A port nothing listens on: bound, then closed. */
async function closedPort (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

async function serveObservability (init: ObservabilityInit, components: ObservabilityComponents): Promise<string> {
  const observability = createObservability(init, components)
  return await listen(createServer((req, res) => {
    if (observability.handle(req, res)) return
    res.writeHead(418).end('not an observability route')
  }))
}

describe('metrics', () => {
  it('follow the raft status, transport and KV as they change', async () => {
    const fake = fakeComponents()
    const observability = createObservability({ nodeId: 'n1', processMetrics: false }, fake.components)

    let samples = parse(await observability.scrape())
    expect(samples.get('synod_raft_term')).toBe(1)
    expect(samples.get('synod_raft_is_leader')).toBe(0)
    expect(samples.get('synod_raft_has_leader')).toBe(1)
    expect(samples.get('synod_raft_role{role="follower"}')).toBe(1)
    expect(samples.get('synod_raft_role{role="leader"}')).toBe(0)
    expect(samples.get('synod_raft_commit_index')).toBe(10)
    expect(samples.get('synod_raft_applied_index')).toBe(9)
    expect(samples.get('synod_raft_leader_changes_total')).toBe(1)
    expect(samples.get('synod_kv_keys')).toBe(0)
    expect([...samples.keys()].some((key) => key.startsWith('synod_raft_peer_match_index'))).toBe(false)

    Object.assign(fake.status, { role: 'leader', term: 4, leader: 'n1', commitIndex: 42, appliedIndex: 41, progress: { n2: { match: 40, next: 41 }, n3: { match: 12, next: 13 } } })
    fake.raftMetrics.leaderChanges = 3
    Object.assign(fake.stats, { messagesSent: 100, messagesReceived: 90, dropped: 2, queuedMessages: 5 })
    Object.assign(fake.kv, { keys: 7, revision: 41 })

    samples = parse(await observability.scrape())
    expect(samples.get('synod_raft_term')).toBe(4)
    expect(samples.get('synod_raft_is_leader')).toBe(1)
    expect(samples.get('synod_raft_role{role="leader"}')).toBe(1)
    expect(samples.get('synod_raft_role{role="follower"}')).toBe(0)
    expect(samples.get('synod_raft_commit_index')).toBe(42)
    expect(samples.get('synod_raft_applied_index')).toBe(41)
    expect(samples.get('synod_raft_peer_match_index{peer="n2"}')).toBe(40)
    expect(samples.get('synod_raft_peer_next_index{peer="n3"}')).toBe(13)
    expect(samples.get('synod_raft_leader_changes_total')).toBe(3)
    expect(samples.get('synod_transport_messages_sent_total')).toBe(100)
    expect(samples.get('synod_transport_messages_received_total')).toBe(90)
    expect(samples.get('synod_transport_messages_dropped_total')).toBe(2)
    expect(samples.get('synod_transport_queued_messages')).toBe(5)
    expect(samples.get('synod_kv_keys')).toBe(7)
    expect(samples.get('synod_kv_revision')).toBe(41)

    // Losing leadership removes the per-peer series instead of leaving stale values.
    Object.assign(fake.status, { role: 'candidate', term: 5, leader: undefined, progress: {} })
    samples = parse(await observability.scrape())
    expect(samples.get('synod_raft_has_leader')).toBe(0)
    expect(samples.get('synod_raft_role{role="candidate"}')).toBe(1)
    expect([...samples.keys()].some((key) => key.startsWith('synod_raft_peer_'))).toBe(false)
  })

  it('read the raft status once per scrape', async () => {
    const fake = fakeComponents()
    let reads = 0
    const status = fake.components.raft.status.bind(fake.components.raft)
    fake.components.raft = { ...fake.components.raft, status: () => { reads++; return status() } }
    const observability = createObservability({ nodeId: 'n1', processMetrics: false }, fake.components)
    await observability.scrape()
    expect(reads).toBe(1)
    await observability.scrape()
    expect(reads).toBe(2)
  })

  it('count HTTP requests and latency by route and status', async () => {
    const observability = createObservability({ nodeId: 'n1', processMetrics: false }, fakeComponents().components)
    observability.recordHttp('/v1/kv/:key', 200, 3)
    observability.recordHttp('/v1/kv/:key', 200, 30)
    observability.recordHttp('/v1/kv/:key', 421, 1)
    const samples = parse(await observability.scrape())
    expect(samples.get('synod_http_requests_total{route="/v1/kv/:key",status="200"}')).toBe(2)
    expect(samples.get('synod_http_requests_total{route="/v1/kv/:key",status="421"}')).toBe(1)
    expect(samples.get('synod_http_request_duration_seconds_count{route="/v1/kv/:key",status="200"}')).toBe(2)
    expect(samples.get('synod_http_request_duration_seconds_sum{route="/v1/kv/:key",status="200"}')).toBeCloseTo(0.033, 6)
    expect(samples.get('synod_http_request_duration_seconds_bucket{le="0.005",route="/v1/kv/:key",status="200"}')).toBe(1)
    expect(samples.get('synod_http_request_duration_seconds_bucket{le="0.05",route="/v1/kv/:key",status="200"}')).toBe(2)
  })

  it('time proposals through an instrumented log, successes and failures apart', async () => {
    const observability = createObservability({ nodeId: 'n1', processMetrics: false }, fakeComponents().components)
    let fail = false
    const proposed: Uint8Array[] = []
    const log = {
      async propose (command: Uint8Array) {
        proposed.push(command)
        if (fail) throw new NotLeaderError('not the leader', { leaderHint: 'n2', term: 3 })
        return { index: proposed.length, term: 3, result: 'ok' }
      }
    } as unknown as ReplicatedLog<string>
    const instrumented = observability.instrumentLog(log)
    await expect(instrumented.propose(new Uint8Array([1]))).resolves.toEqual({ index: 1, term: 3, result: 'ok' })
    await instrumented.propose(new Uint8Array([2]))
    fail = true
    await expect(instrumented.propose(new Uint8Array([3]))).rejects.toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: 'n2' })
    expect(proposed.map((command) => command[0])).toEqual([1, 2, 3])
    const samples = parse(await observability.scrape())
    expect(samples.get('synod_proposal_duration_seconds_count{outcome="ok"}')).toBe(2)
    expect(samples.get('synod_proposal_duration_seconds_count{outcome="error"}')).toBe(1)
  })

  it('keep two nodes in one process apart, and add process metrics on request', async () => {
    const first = fakeComponents()
    const second = fakeComponents()
    second.status.term = 9
    const a = createObservability({ nodeId: 'a', processMetrics: true }, first.components)
    const b = createObservability({ nodeId: 'b', processMetrics: false }, second.components)
    const textA = await a.scrape()
    const textB = await b.scrape()
    expect(textA).toContain('synod_raft_term{node="a"} 1')
    expect(textB).toContain('synod_raft_term{node="b"} 9')
    expect(textA).toContain('synod_process_cpu_user_seconds_total')
    expect(textB).not.toContain('synod_process_cpu_user_seconds_total')
  })

  it('accept the node\'s real components (compile-time check)', () => {
    const componentsOf = (node: SynodNode): Omit<ObservabilityComponents, 'logger'> => ({ raft: node.raft, transport: node.transport, kv: node.kv })
    expect(typeof componentsOf).toBe('function')
  })
})

describe('routes', () => {
  it('serve /metrics in the Prometheus text format and count their own requests', async () => {
    const url = await serveObservability({ nodeId: 'n1', processMetrics: false }, fakeComponents().components)
    const first = await fetch(`${url}/metrics`)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(parse(await first.text()).get('synod_raft_term')).toBe(1)
    const second = parse(await (await fetch(`${url}/metrics?x=1`)).text())
    expect(second.get('synod_http_requests_total{route="/metrics",status="200"}')).toBe(1)
  })

  it('serve a self-contained dashboard page', async () => {
    const url = await serveObservability({ nodeId: 'n1', processMetrics: false }, fakeComponents().components)
    for (const path of ['/dashboard', '/dashboard/']) {
      const response = await fetch(`${url}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
      const html = await response.text()
      expect(html).toContain('<script>')
      expect(html).toContain('/v1/cluster/status')
      // No external assets: no src/href attributes, no absolute URLs.
      expect(html).not.toMatch(/\s(src|href)=/)
      expect(html).not.toMatch(/https?:\/\//)
    }
  })

  it('list the members and their API URLs', async () => {
    const apiUrls = new Map([['n2', 'http://127.0.0.1:7002'], ['n1', 'http://127.0.0.1:7001']])
    const url = await serveObservability({ nodeId: 'n1', apiUrls, processMetrics: false }, fakeComponents().components)
    const response = await fetch(`${url}/v1/cluster`)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(await response.json()).toEqual({ self: 'n1', members: [{ id: 'n1', apiUrl: 'http://127.0.0.1:7001' }, { id: 'n2', apiUrl: 'http://127.0.0.1:7002' }] })
  })

  it('gather every member\'s status, with unreachable, failing and silent members shown as down', async () => {
    const fake = fakeComponents()
    Object.assign(fake.status, { role: 'leader', term: 7, leader: 'n1' })
    const n2 = await listen(createServer((req, res) => {
      expect(req.url).toBe('/v1/status')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'n2', role: 'follower', term: 7, leader: 'n1', commitIndex: 5, appliedIndex: 5 }))
    }))
    const n3 = await closedPort()
    const n4 = await listen(createServer((_req, res) => { res.writeHead(503).end('{}') }))
    const n5 = await listen(createServer(() => { /* never answers */ }))
    const apiUrls = new Map([['n2', n2], ['n3', n3], ['n4', n4], ['n5', n5], ['n6', 'http://127.0.0.1:1']])
    const url = await serveObservability({ nodeId: 'n1', apiUrls, statusTimeoutMs: 300, processMetrics: false }, fake.components)

    const response = await fetch(`${url}/v1/cluster/status`)
    expect(response.status).toBe(200)
    const body = await response.json() as { self: string, members: Array<Record<string, unknown>> }
    expect(body.self).toBe('n1')
    expect(body.members.map((member) => [member.id, member.up])).toEqual([['n1', true], ['n2', true], ['n3', false], ['n4', false], ['n5', false], ['n6', false]])
    expect(body.members[0]).toMatchObject({ status: { id: 'n1', role: 'leader', term: 7 } })
    expect(body.members[1]).toMatchObject({ apiUrl: n2, status: { role: 'follower', leader: 'n1' } })
    expect(body.members[2]).toMatchObject({ error: 'ECONNREFUSED' })
    expect(body.members[3]).toMatchObject({ error: 'HTTP 503' })
    expect(body.members[4]).toMatchObject({ error: 'no answer within 300 ms' })
  })

  it('need the token on the cluster routes when one is set, and forward it to the members', async () => {
    const seen: Array<string | undefined> = []
    const n2 = await listen(createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"n2","role":"follower"}')
    }))
    const url = await serveObservability({ nodeId: 'n1', apiUrls: new Map([['n2', n2]]), token: 's3cret', processMetrics: false }, fakeComponents().components)
    for (const path of ['/v1/cluster', '/v1/cluster/status']) {
      const refused = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong!' } })
      expect(refused.status).toBe(401)
      expect(await refused.json()).toMatchObject({ error: { code: 'ERR_UNAUTHORIZED' } })
    }
    const ok = await fetch(`${url}/v1/cluster/status`, { headers: { authorization: 'Bearer s3cret' } })
    expect(ok.status).toBe(200)
    expect(seen).toEqual(['Bearer s3cret'])
    expect((await fetch(`${url}/metrics`)).status).toBe(200)
  })

  it('refuse other methods, and leave other paths to the caller', async () => {
    const url = await serveObservability({ nodeId: 'n1', processMetrics: false }, fakeComponents().components)
    const post = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' })
    expect(post.status).toBe(405)
    expect(await post.json()).toMatchObject({ error: { code: 'ERR_METHOD' } })
    const head = await fetch(`${url}/dashboard`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    for (const path of ['/v1/status', '/v1/kv/metrics', '/metricsx', '/v1/cluster/status/extra']) {
      const other = await fetch(`${url}${path}`)
      expect(other.status).toBe(418)
      await other.text()
    }
  })
})
