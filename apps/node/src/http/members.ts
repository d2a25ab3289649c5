import { InvalidArgumentError, NotLeaderError, type ClusterConfig, type MembershipChange, type NodeId, type ReplicatedLog } from '@synod/interfaces'

/** One member as `GET /v1/members` lists it. */
export interface MemberView {
  id: NodeId
  role: 'voter' | 'learner'
  /** The peer address the transport dials (`ws://host:port`). */
  peerAddress: string | undefined
  /** Its client API URL, when this node knows it (from `--api-peers` or the add request). */
  apiUrl?: string
}

export interface MembersView {
  members: MemberView[]
  leader: NodeId | undefined
  /**
   * Set when the change is in force but the member's client URLs could not be recorded in the
   * replicated member directory (e.g. a leader that removed itself has stepped down by then).
   */
  warning?: string
}

/** A `POST /v1/members` request, validated. */
export type MembersRequest =
  | { op: 'add', id: NodeId, peerAddress: string, learner: boolean, apiUrl?: string, wsUrl?: string }
  | { op: 'promote', id: NodeId }
  | { op: 'remove', id: NodeId }

/** How long a membership change may take before the request answers ERR_ABORTED (it may still complete). */
const CHANGE_TIMEOUT_MS = 30_000

/** The members of `config`, voters first; voters leaving in a joint phase count as voters. */
export function membersOf (config: ClusterConfig, leader: NodeId | undefined, apiUrls: ReadonlyMap<NodeId, string>): MembersView {
  const voters = [...new Set([...config.voters, ...(config.outgoingVoters ?? [])])].sort()
  const learners = [...config.learners].sort()
  const view = (id: NodeId, role: MemberView['role']): MemberView => {
    const apiUrl = apiUrls.get(id)
    return { id, role, peerAddress: config.addresses[id], ...(apiUrl === undefined ? {} : { apiUrl }) }
  }
  return { members: [...voters.map((id) => view(id, 'voter')), ...learners.map((id) => view(id, 'learner'))], leader }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const PEER = /^(wss?:\/\/)?[^\s/:]+(:\d{1,5})$/

/** Checks a `POST /v1/members` body; throws ERR_INVALID_ARGUMENT naming the bad field. */
export function parseMembersRequest (body: Record<string, unknown>): MembersRequest {
  const { op, id } = body
  if (typeof id !== 'string' || !ID.test(id)) throw new InvalidArgumentError('id must be 1-64 letters, digits, ".", "_" or "-"', { field: 'id' })
  switch (op) {
    case 'add': {
      const { peerAddress, learner, apiUrl, wsUrl } = body
      if (typeof peerAddress !== 'string' || !PEER.test(peerAddress)) throw new InvalidArgumentError('peerAddress must be host:port or ws://host:port', { field: 'peerAddress' })
      if (learner !== undefined && typeof learner !== 'boolean') throw new InvalidArgumentError('learner must be a boolean', { field: 'learner' })
      if (apiUrl !== undefined && (typeof apiUrl !== 'string' || !/^https?:\/\/\S+$/.test(apiUrl))) throw new InvalidArgumentError('apiUrl must be an http:// or https:// URL', { field: 'apiUrl' })
      if (wsUrl !== undefined && (typeof wsUrl !== 'string' || !/^wss?:\/\/\S+$/.test(wsUrl))) throw new InvalidArgumentError('wsUrl must be a ws:// or wss:// URL', { field: 'wsUrl' })
      return {
        op,
        id,
        peerAddress: /^wss?:\/\//.test(peerAddress) ? peerAddress : `ws://${peerAddress}`,
        learner: learner === true,
        ...(apiUrl === undefined ? {} : { apiUrl }),
        ...(wsUrl === undefined ? {} : { wsUrl })
      }
    }
    case 'promote': case 'remove': return { op, id }
    default: throw new InvalidArgumentError('op must be "add", "promote" or "remove"', { field: 'op' })
  }
}

function toChange (request: MembersRequest): MembershipChange {
  switch (request.op) {
    case 'add': return { type: request.learner ? 'add-learner' : 'add-voter', id: request.id, address: request.peerAddress }
    case 'promote': return { type: 'promote', id: request.id }
    case 'remove': return { type: 'remove', id: request.id }
  }
}

/**
 * Applies one membership change through the log. Only the leader serves it: elsewhere it fails
 * with ERR_NOT_LEADER and the leader hint, as writes do. Unsafe changes (another change pending,
 * removing the last voter, promoting a non-learner, ...) fail with ERR_INVALID_MEMBERSHIP from
 * the engine. Resolves once the new configuration is in force.
 */
export async function changeMembers (
  log: ReplicatedLog<unknown>, request: MembersRequest, apiUrls: Map<NodeId, string>, signal?: AbortSignal,
  /** Replicates the member's client URLs (the node's member directory); without it they stay local. */
  recordUrls?: (request: MembersRequest, signal: AbortSignal) => Promise<void>
): Promise<MembersView> {
  const status = log.status()
  if (!log.isLeader()) throw new NotLeaderError('membership changes are served by the leader', { leaderHint: status.leader, term: status.term })
  const timeout = AbortSignal.timeout(CHANGE_TIMEOUT_MS)
  const bounded = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  const config = await log.changeMembership(toChange(request), { signal: bounded })
  if (request.op === 'add' && request.apiUrl !== undefined) apiUrls.set(request.id, request.apiUrl)
  if (request.op === 'remove') apiUrls.delete(request.id)
  const view = membersOf(config, log.status().leader, apiUrls)
  if (recordUrls !== undefined && (request.op === 'remove' || (request.op === 'add' && (request.apiUrl !== undefined || request.wsUrl !== undefined)))) {
    // The change is committed and in force whatever happens here: an error now must not tell the
    // caller it failed. A leader that removed itself has stepped down, so its directory write is
    // refused; a removed member's stale URLs are harmless (views list members of the configuration
    // only), and an add's URLs can be recorded by repeating the add on the new leader.
    try {
      await recordUrls(request, bounded)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      view.warning = `the change is in force, but the member's client URLs were not recorded in the member directory (${typeof code === 'string' ? code : String(error)})` +
        (request.op === 'add' ? '; repeat the add on the leader to record them' : '')
    }
  }
  return view
}
