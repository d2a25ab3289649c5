import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryNetwork } from '@synod/sim'
import { afterEach, describe, expect, it } from 'vitest'
import type { MuxEnvelope } from '../../src/sharding/group-mux.js'
import type { ShardMessage } from '../../src/sharding/quiescence.js'
import { createShardHost, type ShardHost, type ShardNode } from '../../src/sharding/shard-host.js'
import { fileShardStorage } from '../../src/sharding/shard-storage.js'
import { createSharedHardStateStore } from '../../src/sharding/shared-hard-state.js'
import { systemClock } from '../../src/system/clock.js'
import { allLed, fastTiming, retryNotLeader, seededRandom, until } from './support.js'

const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-shard-storage-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('shared hard state', () => {
  it('keeps each shard\'s state apart, survives a reopen, and refuses a damaged file', async () => {
    const path = join(tempDir(), 'hard-state.json')
    const store = createSharedHardStateStore(path)
    const one = store.forShard(1)
    const two = store.forShard(2)
    await one.start()
    await two.start()
    expect(await one.load()).toBeUndefined()
    await Promise.all([
      one.save({ term: 3, vote: 'a', commit: 7 }),
      two.save({ term: 5, vote: null, commit: 0 }),
      one.save({ term: 4, vote: 'b', commit: 9 })
    ])
    await one.stop()
    await two.stop()

    const reopened = createSharedHardStateStore(path)
    const again = reopened.forShard(1)
    await again.start()
    expect(await again.load()).toEqual({ term: 4, vote: 'b', commit: 9 })
    const other = reopened.forShard(2)
    await other.start()
    expect(await other.load()).toEqual({ term: 5, vote: null, commit: 0 })
    await again.stop()
    await other.stop()

    writeFileSync(path, readFileSync(path, 'utf8').replace('"term\\":4', '"term\\":6'))
    await expect(createSharedHardStateStore(path).forShard(1).start()).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })
})

describe('file shard storage', () => {
  it('lays shards out under <dataDir>/shards/<id>/ and recovers every shard after a full restart', async () => {
    const root = tempDir()
    const ids = ['n1', 'n2', 'n3']
    const nodes: ShardNode[] = ids.map((id) => ({ id, address: `memory://${id}` }))
    const boot = async (): Promise<ShardHost[]> => {
      const network = createMemoryNetwork()
      // Placement by hand here (the test drops a replica itself): no metadata-driven rebalancing.
      const hosts = ids.map((id, i) => createShardHost({ ...fastTiming, nodeId: id, nodes, shardCount: 4, autoRebalance: false }, {
        transport: network.endpoint<MuxEnvelope<ShardMessage>>(id),
        storage: fileShardStorage({ dataDir: join(root, id) }),
        clock: systemClock,
        random: seededRandom(i)
      }))
      await Promise.all(hosts.map(async (host) => { await host.start() }))
      await until(() => allLed(hosts, 4), 'a leader in every shard')
      return hosts
    }
    let hosts = await boot()
    for (let i = 0; i < 20; i++) await retryNotLeader(async () => await hosts[i % 3]!.write({ op: 'put', key: `k${i}`, value: new Uint8Array([i]) }))
    await Promise.all(hosts.map(async (host) => { await host.stop() }))

    hosts = await boot()
    for (let i = 0; i < 20; i++) expect([...((await retryNotLeader(async () => await hosts[(i + 1) % 3]!.get(`k${i}`)))?.value ?? [])]).toEqual([i])
    for (let shard = 0; shard < 4; shard++) expect(existsSync(join(root, 'n1', 'shards', String(shard), 'wal'))).toBe(true)
    // A replica that leaves its shard takes its data with it: directory and hard-state record.
    const hardState = (): Record<string, unknown> => JSON.parse((JSON.parse(readFileSync(join(root, 'n1', 'shards', 'hard-state.json'), 'utf8')) as { states: string }).states) as Record<string, unknown>
    expect(Object.keys(hardState())).toContain('3')
    await hosts[0]!.leaveShard(3)
    expect(existsSync(join(root, 'n1', 'shards', '3'))).toBe(false)
    expect(Object.keys(hardState())).not.toContain('3')
    await Promise.all(hosts.map(async (host) => { await host.stop() }))
  })
})
