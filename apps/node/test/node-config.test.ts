import { EventEmitter } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NotLeaderError, type Logger, type ReplicatedLog } from '@synod/interfaces'
import { afterAll, describe, expect, it } from 'vitest'
import type { LockServer } from '@synod/lock'
import { serveLocks } from '../src/http/locks.js'
import { changeMembers, membersOf, parseMembersRequest } from '../src/http/members.js'
import { createSynodNode, type ConsensusEngine } from '../src/node.js'
import { createJsonLogger, parseLogLevel } from '../src/system/logger.js'

const silent: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child: () => silent }
const roots: string[] = []
afterAll(async () => { for (const root of roots) await rm(root, { recursive: true, force: true }) })

describe('the pino logger behind the Logger contract', () => {
  it('writes JSON lines with the bindings of every child, above the level only', () => {
    const lines: string[] = []
    const logger = createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }).child({ node: 'n1' })
    logger.child({ component: 'raft' }).info({ term: 3 }, 'elected')
    logger.trace({}, 'not written')
    const error = Object.assign(new Error('disk full'), { code: 'ENOSPC' })
    logger.error({ err: error }, 'write failed')
    const [elected, failed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toHaveLength(2)
    expect(elected).toMatchObject({ level: 30, node: 'n1', component: 'raft', term: 3, msg: 'elected' })
    expect(typeof elected?.time).toBe('number')
    expect(failed).toMatchObject({ level: 50, node: 'n1', msg: 'write failed', err: { message: 'disk full', code: 'ENOSPC' } })
    expect(failed).not.toHaveProperty('component')
  })

  it('accepts the documented levels only', () => {
    expect(parseLogLevel(undefined)).toBe('info')
    expect(parseLogLevel('silent')).toBe('silent')
    expect(() => parseLogLevel('verbose')).toThrow(/--log-level must be one of/)
  })
})

describe('membership requests', () => {
  it('turn into a validated request, normalising the peer address', () => {
    expect(parseMembersRequest({ op: 'add', id: 'n4', peerAddress: '10.0.0.4:7101', learner: true })).toEqual({ op: 'add', id: 'n4', peerAddress: 'ws://10.0.0.4:7101', learner: true })
    expect(parseMembersRequest({ op: 'add', id: 'n4', peerAddress: 'wss://db4:7101' })).toMatchObject({ peerAddress: 'wss://db4:7101', learner: false })
    expect(parseMembersRequest({ op: 'remove', id: 'n2' })).toEqual({ op: 'remove', id: 'n2' })
  })

  it.each([
    [{ op: 'add', id: 'n4' }, 'peerAddress'],
    [{ op: 'add', id: 'n4', peerAddress: 'host' }, 'peerAddress'],
    [{ op: 'add', id: 'n4', peerAddress: 'h:1', learner: 'yes' }, 'learner'],
    [{ op: 'add', id: 'n4', peerAddress: 'h:1', apiUrl: 'ftp://x' }, 'apiUrl'],
    [{ op: 'promote', id: '' }, 'id'],
    [{ op: 'promote', id: '../etc' }, 'id'],
    [{ op: 'rename', id: 'n4' }, 'op']
  ])('refuse %j naming %s', (body, field) => {
    let caught: unknown
    try { parseMembersRequest(body) } catch (error) { caught = error }
    expect(caught).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field })
  })

  it('list voters (a leaving joint voter included) before learners, with known API URLs', () => {
    const view = membersOf({ voters: ['n2', 'n1'], outgoingVoters: ['n1', 'n3'], learners: ['n4'], addresses: { n1: 'ws://a:1', n2: 'ws://b:1', n3: 'ws://c:1', n4: 'ws://d:1' } }, 'n1', new Map([['n4', 'http://d:2']]))
    expect(view).toEqual({
      leader: 'n1',
      members: [
        { id: 'n1', role: 'voter', peerAddress: 'ws://a:1' },
        { id: 'n2', role: 'voter', peerAddress: 'ws://b:1' },
        { id: 'n3', role: 'voter', peerAddress: 'ws://c:1' },
        { id: 'n4', role: 'learner', peerAddress: 'ws://d:1', apiUrl: 'http://d:2' }
      ]
    })
  })
})

describe('a data directory and its engine', () => {
  async function startOn (dataDir: string, consensus: ConsensusEngine): Promise<unknown> {
    const node = createSynodNode({
      id: 'n1', consensus, dataDir, secret: 'engine-test-secret-0123456789', logger: silent,
      peerListen: { host: '127.0.0.1', port: 0 }, apiListen: { host: '127.0.0.1', port: 0 }, members: new Map([['n1', '127.0.0.1:1']])
    })
    try {
      await node.start()
      return undefined
    } catch (error) {
      return error
    } finally {
      await node.stop()
    }
  }

  it('refuses the other engine, naming the one it holds', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synod-engine-'))
    roots.push(root)
    await writeFile(join(root, 'ENGINE'), 'raft\n')
    expect(await startOn(root, 'paxos')).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('--consensus raft') as unknown })
  })

  it('refuses an unknown engine when the node is created', () => {
    expect(() => createSynodNode({
      id: 'n1', consensus: 'zab' as ConsensusEngine, dataDir: '/nonexistent', secret: 'engine-test-secret-0123456789', logger: silent,
      peerListen: { host: '127.0.0.1', port: 0 }, apiListen: { host: '127.0.0.1', port: 0 }, members: new Map()
    })).toThrow(/raft or paxos/)
  })

  it('refuses an unknown Raft commit propagation when the node is created', () => {
    expect(() => createSynodNode({
      id: 'n1', commitPropagation: 'sometimes' as 'lazy', dataDir: '/nonexistent', secret: 'engine-test-secret-0123456789', logger: silent,
      peerListen: { host: '127.0.0.1', port: 0 }, apiListen: { host: '127.0.0.1', port: 0 }, members: new Map()
    })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'commitPropagation' }))
  })
})

describe('a membership change that commits', () => {
  const config = { voters: ['n2', 'n3'], learners: [], addresses: { n2: 'ws://b:1', n3: 'ws://c:1' } }
  const log = (leader: boolean): ReplicatedLog<unknown> => ({
    isLeader: () => leader,
    status: () => ({ leader: leader ? 'n1' : 'n2', term: 3 }),
    changeMembership: async () => config
  }) as unknown as ReplicatedLog<unknown>

  it('answers with the new configuration when the leader removed itself and cannot record it in the directory', async () => {
    const refused = async (): Promise<void> => { throw new NotLeaderError('stepped down', { leaderHint: 'n2', term: 4 }) }
    const view = await changeMembers(log(true), { op: 'remove', id: 'n1' }, new Map(), undefined, refused)
    expect(view.members.map((member) => member.id)).toEqual(['n2', 'n3'])
    expect(view.warning).toMatch(/in force.*ERR_NOT_LEADER/)
  })

  it('still refuses a change asked of a follower', async () => {
    await expect(changeMembers(log(false), { op: 'remove', id: 'n1' }, new Map())).rejects.toMatchObject({ code: 'ERR_NOT_LEADER' })
  })
})

describe('an HTTP grant wait', () => {
  it('leaves no close listener on a keep-alive connection once it ends', async () => {
    const socket = new EventEmitter()
    const req = { socket } as unknown as IncomingMessage
    const locks = { awaitGrant: async () => 7 } as unknown as LockServer
    const body = { session: 1, request: 2, name: 'job', afterIndex: 0 }
    for (let i = 0; i < 20; i++) expect(await serveLocks(locks, '/v1/locks/await-grant', body, req)).toBe(7)
    expect(socket.listenerCount('close')).toBe(0)
  })
})
