import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFencedResource, createLockClient, type LockServer } from '@synod/lock'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectHttpLockServer } from '../src/cli/http-lock-server.js'
import { systemClock } from '../src/system/clock.js'
import { createProcessCluster, waitForLeader, type ProcessCluster } from './support/cluster.js'

const root = mkdtempSync(join(tmpdir(), 'synod-locks-'))
let cluster: ProcessCluster
let servers: LockServer[]

beforeAll(async () => {
  cluster = await createProcessCluster(root, 3, 50, { clientWs: true })
  try {
    // A leader needs only two of the three nodes: the third may still be starting on a loaded
    // machine. The test is about three lock servers, so wait until each one answers, then for a leader.
    servers = await Promise.all(cluster.members.map(async (m) => connectWhenUp(`http://${m.api}`)))
    await waitForLeader(cluster.members)
  } catch (error) {
    // Say why: a node that exited, or one that is slow to start, shows in its log.
    const logs = cluster.members.map((m) => `${m.id} (exit ${String(m.process?.exitCode ?? 'none')}):\n${tail(join(m.dir, 'node.log'))}`)
    throw new Error(`cluster setup failed: ${(error as Error).message}\n${logs.join('\n')}`)
  }
}, 100_000)

function tail (file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Connects to a node's lock routes, retrying until it answers (it may still be starting). */
async function connectWhenUp (endpoint: string, timeoutMs = 60_000): Promise<LockServer> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const server = await connectHttpLockServer(endpoint)
    if (server !== undefined) return server
    if (Date.now() > deadline) throw new Error(`${endpoint} did not answer within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

afterAll(async () => {
  await cluster.stopAll()
  rmSync(root, { recursive: true, force: true })
})

describe('locks on a 3-node cluster', () => {
  it('gives mutual exclusion with strictly increasing fencing tokens to contending clients', async () => {
    expect(servers).toHaveLength(3)
    const counter = createFencedResource(0)
    const tokens: number[] = []
    const clients = Array.from({ length: 4 }, () => createLockClient({ servers, clock: systemClock }, { ttlMs: 5000 }))
    let inside = 0
    let overlap = false
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < 5; i++) {
        await client.withLock('counter', async (_signal, lock) => {
          inside += 1
          if (inside > 1) overlap = true
          tokens.push(lock.token)
          const value = counter.read(lock.token)
          await new Promise((resolve) => setTimeout(resolve, 5))
          counter.update(lock.token, () => value + 1)
          inside -= 1
        }, { timeoutMs: 30_000 })
      }
    }))
    await Promise.all(clients.map(async (client) => { await client.stop() }))
    expect(overlap).toBe(false)
    expect(counter.read(Number.MAX_SAFE_INTEGER)).toBe(20)
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
    expect(new Set(tokens).size).toBe(tokens.length)
  }, 90_000)

  /** Runs `synod lock job --endpoints <endpoints> -- sh -c <script>`; the script's output goes to `out`. */
  async function synodLock (endpoints: string[], out: string, script: string): Promise<number> {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'lock', 'job', '--endpoints', endpoints.join(','), '--',
      'sh', '-c', `${script} > ${out}; exit 3`],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore' })
    const [code] = await once(child, 'exit') as [number]
    return code
  }

  it('synod lock runs a command with the fencing token in its environment, over the WebSocket client API', async () => {
    const out = join(root, 'token-ws.txt')
    // One endpoint is a node that is not there: the client routes around it.
    const endpoints = ['ws://127.0.0.1:9', ...cluster.members.map((m) => `ws://${m.ws ?? ''}`)]
    expect(await synodLock(endpoints, out, 'echo "$SYNOD_LOCK_NAME $SYNOD_LOCK_TOKEN"')).toBe(3)
    const [name, token] = readFileSync(out, 'utf8').trim().split(' ')
    expect(name).toBe('job')
    expect(Number(token)).toBeGreaterThan(0)
  }, 60_000)

  it('synod lock falls back to the HTTP lock routes when given only http:// endpoints; tokens keep increasing', async () => {
    const first = join(root, 'token-http-1.txt')
    const second = join(root, 'token-http-2.txt')
    const endpoints = cluster.members.map((m) => `http://${m.api}`)
    expect(await synodLock(endpoints, first, 'echo "$SYNOD_LOCK_NAME $SYNOD_LOCK_TOKEN"')).toBe(3)
    // The first command's session was closed on exit, so the lock is free at once for the next one.
    expect(await synodLock(endpoints, second, 'echo "$SYNOD_LOCK_NAME $SYNOD_LOCK_TOKEN"')).toBe(3)
    const [name, token] = readFileSync(first, 'utf8').trim().split(' ')
    const [, next] = readFileSync(second, 'utf8').trim().split(' ')
    expect(name).toBe('job')
    expect(Number(token)).toBeGreaterThan(0)
    expect(Number(next)).toBeGreaterThan(Number(token))
  }, 60_000)

  it('refuses malformed and leader-only lock requests with 400', async () => {
    const member = cluster.members[0]
    const post = async (body: unknown): Promise<{ status: number, code?: string }> => {
      const res = await fetch(`http://${member?.api ?? ''}/v1/locks/execute`, { method: 'POST', body: JSON.stringify(body) })
      const json = await res.json() as { error?: { code?: string } }
      return { status: res.status, code: json.error?.code }
    }
    expect(await post({ type: 'expire-session', session: 1, renewedIndex: 0 })).toEqual({ status: 400, code: 'ERR_INVALID_ARGUMENT' })
    expect(await post({ type: 'acquire', session: 1, name: 'x' })).toEqual({ status: 400, code: 'ERR_INVALID_ARGUMENT' })
    expect(await post({ type: 'open-session', ttlMs: -5 })).toEqual({ status: 400, code: 'ERR_INVALID_ARGUMENT' })
  })
})
