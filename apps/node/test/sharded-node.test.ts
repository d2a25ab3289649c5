import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type SynodClient } from '@synod/client'
import { murmur3 } from '@synod/ring'
import { connectRpcClient, type RpcClient } from '@synod/transport-ws'
import { createShardedSynodNode, type ShardedSynodNode } from '../src/sharded/sharded-node.js'
import { createJsonLogger } from '../src/system/logger.js'
import { freePorts } from './support/cluster.js'

// Four real sharded nodes in this process (8 shards of 3 replicas each, file storage, transport-ws),
// so every node hosts some shards and not others, reached through HTTP, the WebSocket protocol and
// @synod/client.
const SHARDS = 8
const root = mkdtempSync(join(tmpdir(), 'synod-sharded-node-'))
const ids = ['n1', 'n2', 'n3', 'n4']
const nodes: ShardedSynodNode[] = []
let api: string[] = []
let ws: string[] = []
const rpcs: RpcClient<unknown, unknown>[] = []
const clients: SynodClient[] = []

interface ShardMap {
  epoch: number
  shardCount: number
  nodes: Array<{ id: string, apiUrl?: string, wsUrl?: string }>
  shards: Array<{ shard: number, replicas: string[], leader: string | null, preferredLeader: string }>
}

async function http (i: number, method: string, path: string, body?: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${api[i] ?? ''}${path}`, { method, body, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

const shardOf = (key: string): number => murmur3(key) % SHARDS

beforeAll(async () => {
  const ports = await freePorts(ids.length * 3)
  const at = (i: number): number => ports[i] ?? 0
  const members = new Map(ids.map((id, i) => [id, `127.0.0.1:${at(i)}`]))
  api = ids.map((_, i) => `http://127.0.0.1:${at(4 + i)}`)
  ws = ids.map((_, i) => `ws://127.0.0.1:${at(8 + i)}`)
  for (const [i, id] of ids.entries()) {
    nodes.push(createShardedSynodNode({
      id,
      shards: SHARDS,
      peerListen: { host: '127.0.0.1', port: at(i) },
      apiListen: { host: '127.0.0.1', port: at(4 + i) },
      clientWsListen: { host: '127.0.0.1', port: at(8 + i) },
      apiUrls: new Map(ids.map((x, j) => [x, api[j] ?? ''])),
      clientWsUrls: new Map(ids.map((x, j) => [x, ws[j] ?? ''])),
      members,
      dataDir: join(root, id),
      secret: 'sharded-node-test-secret-0123456789',
      // Not shorter: a quiesced shard relies on node liveness, whose timeout is the election
      // timeout (10 ticks), and a stalled event loop on a loaded machine must not look like death.
      tickMs: 50,
      logger: createJsonLogger({ level: 'error', write: () => {} })
    }))
  }
  await Promise.all(nodes.map(async (node) => { await node.start() }))
  const deadline = Date.now() + 30_000
  // A node knows the leaders of the shards it hosts. Wait until every shard is led by its
  // preferred node (the nodes move leadership there themselves), so that the tests below do not
  // run into those transfers.
  for (;;) {
    const maps = await Promise.all(ids.map(async (_, i) => (await http(i, 'GET', '/v1/shards')).json as unknown as ShardMap))
    const led = (shard: number): boolean => maps.some((map) => map.shards[shard]?.leader === map.shards[shard]?.preferredLeader)
    if (maps.every((map) => map.shardCount === SHARDS) && Array.from({ length: SHARDS }, (_, shard) => led(shard)).every(Boolean)) break
    if (Date.now() > deadline) throw new Error(`shards without a leader: ${JSON.stringify(maps.map((map) => map.shards))}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}, 60_000)

afterAll(async () => {
  for (const client of clients.splice(0)) await client.close()
  for (const rpc of rpcs.splice(0)) await rpc.close()
  await Promise.all(nodes.map(async (node) => { await node.stop() }))
  rmSync(root, { recursive: true, force: true })
})

describe('a sharded node', () => {
  it('serves a shard map with every node\'s client URLs, the same on every node', async () => {
    const maps = await Promise.all(ids.map(async (_, i) => (await http(i, 'GET', '/v1/shards')).json as unknown as ShardMap))
    const map = maps[0] as ShardMap
    expect(map.shardCount).toBe(SHARDS)
    expect(map.nodes.map((node) => [node.id, node.apiUrl])).toEqual(ids.map((id, i) => [id, api[i]]))
    for (const shard of map.shards) expect(new Set(shard.replicas).size).toBe(3)
    for (const other of maps) expect(other.shards.map((shard) => shard.replicas)).toEqual(map.shards.map((shard) => shard.replicas))

    const rpc = await connectRpcClient(ws[2] ?? '')
    rpcs.push(rpc)
    const overWs = await rpc.request({ op: 'shards' }) as ShardMap
    expect(overWs.nodes.map((node) => [node.id, node.wsUrl])).toEqual(ids.map((id, i) => [id, ws[i]]))
  })

  it('writes and reads a key through any node over HTTP: a node without the shard redirects to one that has it', async () => {
    const map = (await http(0, 'GET', '/v1/shards')).json as unknown as ShardMap
    const key = 'user:42'
    const shard = map.shards[shardOf(key)] as ShardMap['shards'][number]
    const outsider = ids.findIndex((id) => !shard.replicas.includes(id))
    const insider = ids.findIndex((id) => shard.replicas.includes(id))

    const refused = await http(outsider, 'PUT', `/v1/kv/${key}`, 'Ada')
    expect(refused.status).toBe(421)
    expect(refused.json.error).toMatchObject({ code: 'ERR_NOT_LEADER', shard: shardOf(key) })
    const hint = (refused.json.error as { leaderHint?: string }).leaderHint as string
    expect(shard.replicas).toContain(hint)
    expect((refused.json.error as { leaderUrl?: string }).leaderUrl).toBe(api[ids.indexOf(hint)])

    // A replica that does not lead forwards inside the cluster (one hop).
    expect((await http(insider, 'PUT', `/v1/kv/${key}`, 'Ada')).json).toMatchObject({ ok: true })
    for (const id of shard.replicas) {
      expect((await http(ids.indexOf(id), 'GET', `/v1/kv/${key}`)).json).toMatchObject({ key, value: 'Ada', version: 1 })
    }
  })

  it('lists a prefix across every shard, in key order, including shards this node does not host', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `list/${String(i).padStart(2, '0')}`)
    expect(new Set(keys.map(shardOf)).size).toBe(SHARDS)
    const client = createClient({ endpoints: ws, timeoutMs: 10_000 })
    clients.push(client)
    for (const key of keys) await client.put(key, new TextEncoder().encode(key.toUpperCase()))
    for (const i of ids.keys()) {
      const listed = (await http(i, 'GET', '/v1/kv?prefix=list/')).json as { items: Array<{ key: string, value: string }>, more: boolean }
      expect(listed.items?.map((item) => item.key), JSON.stringify(listed)).toEqual(keys)
      expect(listed.items.every((item) => item.value === item.key.toUpperCase())).toBe(true)
      expect(listed.more).toBe(false)
    }
    const limited = (await http(3, 'GET', '/v1/kv?prefix=list/&limit=5')).json as { items: Array<{ key: string }>, more: boolean }
    expect(limited.items.map((item) => item.key)).toEqual(keys.slice(0, 5))
    expect(limited.more).toBe(true)
  })

  it('serves KV through @synod/client and locks through the lock group from any node', async () => {
    const client = createClient({ endpoints: [ws[3] ?? ''], timeoutMs: 10_000 })
    clients.push(client)
    for (let i = 0; i < 16; i++) expect((await client.put(`k${i}`, new Uint8Array([i]))).ok).toBe(true)
    for (let i = 0; i < 16; i++) expect([...(await client.get(`k${i}`))?.value ?? []]).toEqual([i])

    const locks = client.locks({ ttlMs: 5000 })
    const first = await locks.acquire('job', { timeoutMs: 10_000 })
    await first.release()
    const second = await locks.acquire('job', { timeoutMs: 10_000 })
    expect(second.token).toBeGreaterThan(first.token)
    await second.release()
  })

  it('reports its shards and rebalancing in /v1/status', async () => {
    const status = (await http(1, 'GET', '/v1/status')).json as { sharding: { shardCount: number, stats: { hosted: number }, rebalance: { active: boolean }, shards: unknown[] } }
    expect(status.sharding.shardCount).toBe(SHARDS)
    expect(status.sharding.stats.hosted).toBe(status.sharding.shards.length)
    expect(status.sharding.stats.hosted).toBeGreaterThan(0)
    expect(status.sharding.stats.hosted).toBeLessThan(SHARDS + 1)
    expect(status.sharding.rebalance.active).toBe(false)
  })

  it('shows its shards, replicas per node and rebalancing on the dashboard (headless Chromium)', async () => {
    const executablePath = '/usr/bin/chromium'
    if (!existsSync(executablePath)) expect.fail(`The dashboard test needs Chromium at ${executablePath}: apt-get install -y chromium`)
    const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
      await page.goto(`${api[0] ?? ''}/dashboard`)
      await page.locator('#sharding:not([hidden]) tr[data-shard="7"]').waitFor({ timeout: 10_000 })
      await page.locator('#shard-nodes tr[data-shard-node="n4"]').waitFor({ timeout: 10_000 })
      const perNode = await page.evaluate<string[][]>('Array.from(document.querySelectorAll("#shard-nodes tbody tr"), (tr) => Array.from(tr.children, (td) => td.textContent))')
      expect(perNode.map((row) => row[0])).toEqual(ids)
      // 8 shards of 3 replicas over 4 nodes.
      expect(perNode.reduce((sum, row) => sum + Number(row[1]), 0)).toBe(SHARDS * 3)
      // Leaders and awake/quiesced counts come from each node's own status, this node's included
      // (read once every shard has a leader again: starting Chromium may have cost elections).
      await page.waitForFunction(`Array.from(document.querySelectorAll("#shard-nodes tbody tr"), (tr) => Number(tr.children[2].textContent)).reduce((a, b) => a + b, 0) === ${SHARDS}`, undefined, { timeout: 20_000 })
      expect(perNode.every((row) => /^\d+$/.test(row[3] ?? '') && /^\d+$/.test(row[4] ?? ''))).toBe(true)
      expect(await page.locator('#rebalance').textContent()).toContain('rebalancing: idle')
      expect(await page.locator('#shards tbody tr').count()).toBe(SHARDS)
      expect(await page.locator('#rebalance').textContent()).toContain(`${SHARDS} shards`)
      mkdirSync(join(import.meta.dirname, '..', 'test-results'), { recursive: true })
      writeFileSync(join(import.meta.dirname, '..', 'test-results', 'dashboard-sharded.png'), await page.screenshot({ fullPage: true }))
    } finally {
      await browser.close()
    }
  })
})
