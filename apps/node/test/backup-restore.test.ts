import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '@synod/interfaces'
import { afterAll, describe, expect, it } from 'vitest'
import { createSynodNode, type SynodNode } from '../src/node.js'
import { freePorts } from './support/cluster.js'

/**
 * The backup and restore procedure of docs/guides/operations.md, in one process on both engines:
 * take a snapshot over HTTP, stop the cluster, copy one node's data directory over every node's
 * (the "restore"), start again, and find the data, with the cluster writing on.
 */
const silent: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child: () => silent }
const roots: string[] = []
afterAll(async () => { for (const root of roots) await rm(root, { recursive: true, force: true }) })

describe.each(['raft', 'paxos'] as const)('backup and restore on %s', (consensus) => {
  it('restores every node from one node\'s stopped data directory', async () => {
    const root = await mkdtemp(join(tmpdir(), `synod-restore-${consensus}-`))
    roots.push(root)
    const ports = await freePorts(6)
    const ids = ['n1', 'n2', 'n3']
    const peers = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i] ?? 0}`]))
    const boot = (): SynodNode[] => ids.map((id, i) => createSynodNode({
      id,
      consensus,
      peerListen: { host: '127.0.0.1', port: ports[i] ?? 0 },
      apiListen: { host: '127.0.0.1', port: ports[3 + i] ?? 0 },
      members: peers,
      dataDir: join(root, id),
      secret: 'restore-test-secret-0123456789',
      tickMs: 20,
      logger: silent
    }))
    const url = (node: SynodNode): string => `http://127.0.0.1:${(node.api.address() as AddressInfo).port}`
    async function leaderOf (nodes: SynodNode[]): Promise<SynodNode> {
      for (;;) {
        const leader = nodes.find((node) => node.consensus.isLeader())
        if (leader !== undefined) return leader
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }

    let nodes = boot()
    await Promise.all(nodes.map(async (node) => { await node.start() }))
    let leader = await leaderOf(nodes)
    for (let i = 0; i < 20; i++) expect((await fetch(`${url(leader)}/v1/kv/k${i}`, { method: 'PUT', body: `v${i}` })).status).toBe(200)
    const snapshot = await (await fetch(`${url(leader)}/v1/snapshot`, { method: 'POST' })).json() as { index: number, config: { voters: string[] } }
    expect(snapshot.index).toBeGreaterThanOrEqual(20)
    expect(snapshot.config.voters).toEqual(ids)
    const backupFrom = leader.consensus.id
    expect((await readdir(join(root, backupFrom, 'snapshots'))).some((name) => name.endsWith('.meta'))).toBe(true)
    // Written after the snapshot: still in the backup, which is the whole stopped data directory.
    expect((await fetch(`${url(leader)}/v1/kv/after-snapshot`, { method: 'PUT', body: 'yes' })).status).toBe(200)
    await Promise.all(nodes.map(async (node) => { await node.stop() }))

    const backup = join(root, 'backup')
    await cp(join(root, backupFrom), backup, { recursive: true })
    for (const id of ids) {
      await rm(join(root, id), { recursive: true, force: true })
      await cp(backup, join(root, id), { recursive: true })
    }

    nodes = boot()
    await Promise.all(nodes.map(async (node) => { await node.start() }))
    try {
      leader = await leaderOf(nodes)
      for (const node of nodes) {
        const read = await (await fetch(`${url(node)}/v1/kv/k7`)).json() as { value?: string }
        expect(read.value).toBe('v7')
      }
      expect(((await (await fetch(`${url(leader)}/v1/kv/after-snapshot`)).json()) as { value?: string }).value).toBe('yes')
      expect((await fetch(`${url(leader)}/v1/kv/after-restore`, { method: 'PUT', body: 'ok' })).status).toBe(200)
      const listed = await (await fetch(`${url(leader)}/v1/kv?prefix=k`)).json() as { items: unknown[] }
      expect(listed.items).toHaveLength(20)
    } finally {
      await Promise.all(nodes.map(async (node) => { await node.stop() }))
    }
  }, 40_000)
})
