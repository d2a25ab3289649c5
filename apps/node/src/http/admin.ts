import type { AbortOptions, ReplicatedLog } from '@synod/interfaces'
import { changeMembers, membersOf, parseMembersRequest, type MembersRequest } from './members.js'

/**
 * The cluster routes of the HTTP API (`/v1/status`, `/v1/snapshot`, `/v1/members`), apart from
 * KV: one consensus group (`createGroupAdmin`) or a sharded node (`src/sharded/`).
 */
export interface ClusterAdmin {
  /** `GET /v1/status`. */
  status(): object
  /** `POST /v1/snapshot`: a backup point. */
  snapshot(): Promise<object>
  /** `GET /v1/members`; `linearizable` confirms this node's view first. */
  members(options: { linearizable: boolean } & AbortOptions): Promise<object>
  /** `POST /v1/members` with its JSON body; throws ERR_INVALID_ARGUMENT naming a bad field. */
  changeMembers(body: Record<string, unknown>, options: AbortOptions): Promise<{ view: object, op: string, id: string }>
}

/** The cluster routes of one consensus group. */
export function createGroupAdmin (
  log: ReplicatedLog<unknown>, apiUrls: Map<string, string>, engine: 'raft' | 'paxos',
  recordUrls?: (request: MembersRequest, signal: AbortSignal) => Promise<void>
): ClusterAdmin {
  return {
    status: () => ({ ...log.status(), engine }),
    async snapshot () {
      const meta = await log.snapshot()
      return { index: meta.index, term: meta.term, size: meta.size, checksum: meta.checksum, config: meta.config }
    },
    async members (options) {
      // Linearizable by default, as KV reads are: a lagging node must not report an old view.
      if (options.linearizable) await log.readBarrier(options)
      const status = log.status()
      return membersOf(status.config, status.leader, apiUrls)
    },
    async changeMembers (body, options) {
      const request = parseMembersRequest(body)
      const view = await changeMembers(log, request, apiUrls, options.signal, recordUrls)
      return { view, op: request.op, id: request.id }
    }
  }
}
