import type { IncomingMessage } from 'node:http'
import { InvalidArgumentError, NotLeaderError, type ReplicatedLogStatus } from '@synod/interfaces'
import { createRpcServer, type RpcContext, type RpcServer } from '@synod/transport-ws'

/** A request as the fake node received it. */
export type Received = Record<string, unknown> & { op: string }

interface Entry { value: Uint8Array, createRevision: number, modRevision: number, version: number }

/**
 * The replicated state a few fake nodes share: a key-value map with revisions and the same
 * (client, seq) deduplication as the real state machine, so tests can count how often a write
 * took effect.
 */
export class FakeStore {
  readonly entries = new Map<string, Entry>()
  readonly sessions = new Map<string, { seq: number, result: unknown }>()
  revision = 0
  /** Writes that changed state (deduplicated resends excluded). */
  applied = 0

  write (request: Received): { ok: boolean, revision: number, index: number } {
    const client = request.client as string | undefined
    const seq = request.seq as number | undefined
    if (client !== undefined && seq !== undefined) {
      const seen = this.sessions.get(client)
      if (seen !== undefined && seq <= seen.seq) return seen.result as { ok: boolean, revision: number, index: number }
    }
    const index = ++this.revision
    const key = request.key as string
    const current = this.entries.get(key)
    let ok = true
    if (request.op === 'del') {
      ok = this.entries.delete(key)
    } else {
      if (request.op === 'cas' && request.expectedRevision !== undefined) ok = (current?.modRevision ?? 0) === request.expectedRevision
      if (ok) this.entries.set(key, { value: request.value as Uint8Array, createRevision: current?.createRevision ?? index, modRevision: index, version: (current?.version ?? 0) + 1 })
    }
    this.applied++
    const result = { ok, revision: index, index }
    if (client !== undefined && seq !== undefined) this.sessions.set(client, { seq, result })
    return result
  }
}

/** Decides a request's fate; return undefined to let the fake node answer normally. */
export type Behaviour = (request: Received, context: RpcContext<unknown>, node: FakeNode) => unknown

export interface FakeNodeInit {
  id: string
  store: FakeStore
  role?: 'leader' | 'follower'
  /** Leader id and client URL a follower names in `ERR_NOT_LEADER`. */
  leader?: { id: string, url?: string }
  token?: string
  behaviour?: Behaviour
}

/** A node speaking the client API over transport-ws's RPC server, scripted by each test. */
export interface FakeNode {
  readonly id: string
  readonly address: string
  readonly store: FakeStore
  readonly received: Received[]
  role: 'leader' | 'follower'
  leader: { id: string, url?: string } | undefined
  behaviour: Behaviour | undefined
  stop(): Promise<void>
}

export async function startFakeNode (init: FakeNodeInit): Promise<FakeNode> {
  let server: RpcServer | undefined = undefined
  const node: FakeNode = {
    id: init.id,
    address: '',
    store: init.store,
    received: [],
    role: init.role ?? 'leader',
    leader: init.leader,
    behaviour: init.behaviour,
    stop: async () => { await server?.stop() }
  }

  function status (): ReplicatedLogStatus {
    const leader = node.role === 'leader' ? node.id : node.leader?.id
    return {
      id: node.id, role: node.role, term: 1, leader, commitIndex: node.store.revision, appliedIndex: node.store.revision,
      firstIndex: 1, lastIndex: node.store.revision, config: { voters: [node.id], learners: [], addresses: {} }
    }
  }

  function notLeader (): Error {
    const error = new NotLeaderError(undefined, { leaderHint: node.leader?.id, term: 1 })
    return node.leader?.url === undefined ? error : Object.assign(error, { leaderUrl: node.leader.url })
  }

  async function handle (request: Received, context: RpcContext<unknown>): Promise<unknown> {
    node.received.push(request)
    const scripted = await node.behaviour?.(request, context, node)
    if (scripted !== undefined) return scripted
    switch (request.op) {
      case 'status': return status()
      case 'get': {
        if (request.consistency !== 'serializable' && node.role !== 'leader' && node.leader === undefined) throw notLeader()
        const entry = node.store.entries.get(request.key as string)
        return { revision: node.store.revision, item: entry === undefined ? null : { key: request.key, ...entry } }
      }
      case 'range': {
        const keys = [...node.store.entries.keys()].filter((key) => key.startsWith((request.prefix as string | undefined) ?? '')).sort()
        const limit = (request.limit as number | undefined) ?? 1000
        return {
          revision: node.store.revision,
          items: keys.slice(0, limit).map((key) => ({ key, ...node.store.entries.get(key) })),
          more: keys.length > limit
        }
      }
      case 'put': case 'del': case 'cas':
        if (node.role !== 'leader') throw notLeader()
        return node.store.write(request)
      // A node from before sharding: `shards` is an unknown op to it, as every op it does not know.
      default: throw new InvalidArgumentError(`op must be one of get, range, put, del, cas, status; got ${request.op}`, { field: 'op' })
    }
  }

  const token = init.token
  server = createRpcServer<Received, unknown, unknown>({
    handler: handle,
    ...(token === undefined
      ? {}
      : { authenticate: (request: IncomingMessage) => request.headers.authorization === `Bearer ${token}` ? 'client' : undefined })
  })
  await server.start()
  Object.defineProperty(node, 'address', { value: server.address })
  return node
}

/** An address nothing listens on (a server was there a moment ago). */
export async function deadAddress (): Promise<string> {
  const server = createRpcServer({ handler: () => null })
  await server.start()
  const address = server.address ?? ''
  await server.stop()
  return address
}
