/** The answer to one administrative request, relayed by the load generator. */
export interface AdminReply {
  /** `ok`: done; `refused`: certainly not done (not the leader, an unsafe change); `unknown`: may have happened. */
  readonly outcome: 'ok' | 'refused' | 'unknown'
  readonly status?: number
  readonly code?: string
  readonly json?: Record<string, unknown>
  readonly error?: string
  /** The node that answered. */
  readonly node?: string
}

export type AdminCall = (method: 'GET' | 'POST', path: string, body?: unknown, options?: { node?: string, timeoutMs?: number }) => Promise<AdminReply>

/** A member as `GET /v1/members` lists it (docs/http-api.md). */
export interface MemberEntry { readonly id: string, readonly role: 'voter' | 'learner' }

export interface MembershipComponents {
  readonly admin: AdminCall
  /** The latest commit index each node reported, if it answered. */
  readonly commitIndex: (id: string) => number | undefined
  readonly sleep: (ms: number) => Promise<void>
  /** Milliseconds, for deadlines. */
  readonly now: () => number
}

/**
 * The configuration the leader has applied, or undefined when no leader answered. Any node answers
 * `GET /v1/members` with the configuration it has applied, which on a lagging or deposed node is an
 * old one; only the leader's is taken, asked of it by name when another node answered first.
 */
export async function readMembers (components: MembershipComponents, timeoutMs = 3000): Promise<{ members: MemberEntry[], leader: string | undefined } | undefined> {
  let reply = await components.admin('GET', '/v1/members', undefined, { timeoutMs })
  for (let hop = 0; hop < 2 && reply.outcome === 'ok' && reply.json !== undefined; hop++) {
    const leader = reply.json.leader as string | undefined
    if (leader === undefined) return undefined
    if (leader === reply.node) return { members: (reply.json.members as MemberEntry[] | undefined) ?? [], leader }
    reply = await components.admin('GET', '/v1/members', undefined, { node: leader, timeoutMs })
  }
  return undefined
}

/** What `removeMember` did. */
export interface RemoveResult {
  /** `removed`: the configuration read back no longer lists it; `present`: it still does; `unknown`: nobody answered. */
  readonly state: 'removed' | 'present' | 'unknown'
  readonly reply: AdminReply
}

/** Asks the leader to remove `id`, then reads the configuration back to learn what happened. */
export async function removeMember (components: MembershipComponents, id: string, timeoutMs: number): Promise<RemoveResult> {
  const reply = await components.admin('POST', '/v1/members', { op: 'remove', id }, { timeoutMs })
  if (reply.outcome === 'ok') return { state: 'removed', reply }
  const view = await readMembers(components, 2000)
  if (view === undefined) return { state: 'unknown', reply }
  return { state: view.members.some((m) => m.id === id) ? 'present' : 'removed', reply }
}

/** How a member is brought back. */
export interface RestoreTarget {
  readonly id: string
  /** `host:port` its peers dial. */
  readonly peerAddress: string
  readonly apiUrl: string
}

export interface RestoreResult {
  readonly restored: boolean
  /** The steps taken, for the summary: "add learner", "promote", refusals. */
  readonly steps: string[]
  readonly tookMs: number
}

/**
 * Drives the configuration back to `target` being a voter: adds it as a learner if it is missing,
 * waits for it to catch up with the commit index the leader had when it was added, then promotes
 * it. Every step is re-decided from the configuration read back, so an earlier change whose outcome
 * was unknown (a timeout during a partition) is neither lost nor applied twice.
 */
export async function restoreVoter (components: MembershipComponents, target: RestoreTarget, deadlineMs: number): Promise<RestoreResult> {
  const started = components.now()
  const steps: string[] = []
  let catchUpTo: number | undefined
  let reached: number | undefined
  let leader: string | undefined
  const note = (step: string): void => { if (steps.at(-1) !== step) steps.push(step) }
  while (components.now() < started + deadlineMs) {
    const view = await readMembers(components)
    const self = view?.members.find((m) => m.id === target.id)
    leader = view?.leader ?? leader
    if (view === undefined) {
      note('no leader answered')
    } else if (self === undefined) {
      const leaderCommit = view.leader === undefined ? undefined : components.commitIndex(view.leader)
      const reply = await components.admin('POST', '/v1/members', { op: 'add', id: target.id, peerAddress: target.peerAddress, learner: true, apiUrl: target.apiUrl }, { timeoutMs: 5000 })
      note(reply.outcome === 'ok' ? 'added as learner' : `add ${reply.outcome}${reply.code === undefined ? '' : ` (${reply.code})`}`)
      if (reply.outcome !== 'refused') catchUpTo = leaderCommit ?? 0
      if (reply.outcome === 'ok') continue
    } else if (self.role === 'learner') {
      const leaderCommit = view.leader === undefined ? undefined : components.commitIndex(view.leader)
      catchUpTo ??= leaderCommit ?? 0
      let own = components.commitIndex(target.id)
      if (own === undefined || own < catchUpTo) {
        // The status poll gives up after a few hundred ms; a learner busy catching up on a loaded
        // machine may answer slower than that, so ask it directly with more patience.
        const status = await components.admin('GET', '/v1/status', undefined, { node: target.id, timeoutMs: 2000 })
        const commit = status.json?.commitIndex
        if (status.outcome === 'ok' && typeof commit === 'number') own = Math.max(own ?? 0, commit)
      }
      reached = own
      if (own !== undefined && own >= catchUpTo) {
        const reply = await components.admin('POST', '/v1/members', { op: 'promote', id: target.id }, { timeoutMs: 5000 })
        note(reply.outcome === 'ok' ? `caught up to ${catchUpTo}, promoted` : `promote ${reply.outcome}${reply.code === undefined ? '' : ` (${reply.code})`}`)
        if (reply.outcome === 'ok') continue
      } else {
        note(`learner catching up to ${catchUpTo}`)
      }
    } else {
      return { restored: true, steps, tookMs: components.now() - started }
    }
    await components.sleep(300)
  }
  // A promotion (or an earlier change) that landed as the deadline passed: read it back once more.
  const final = await readMembers(components)
  if (final?.members.some((m) => m.id === target.id && m.role === 'voter') === true) return { restored: true, steps, tookMs: components.now() - started }
  if (catchUpTo !== undefined) {
    steps.push(`learner's commit index ${reached === undefined ? 'unknown (no status)' : reached}`)
    steps.push(await describeCatchUp(components, target.id, leader))
  }
  return { restored: false, steps, tookMs: components.now() - started }
}

/**
 * Why a learner did not catch up, in the words of both ends: the learner's own status (does it
 * know the leader and its term, has it stored anything: `lastIndex`) and the leader's progress
 * record for it (Raft: state, match, next; Paxos: next, match). A learner that is unreachable, one
 * that hears the leader but is sent nothing, and one that is merely slow read differently here.
 */
export async function describeCatchUp (components: MembershipComponents, id: string, leader: string | undefined): Promise<string> {
  const learner = await components.admin('GET', '/v1/status', undefined, { node: id, timeoutMs: 2000 })
  const own = learner.outcome === 'ok' && learner.json !== undefined
    ? `${id}: ${fields(learner.json, ['role', 'term', 'leader', 'commitIndex', 'lastIndex'])}`
    : `${id}: no status (${learner.error ?? learner.code ?? learner.outcome})`
  if (leader === undefined || leader === id) return `${own}; no leader known`
  const status = await components.admin('GET', '/v1/status', undefined, { node: leader, timeoutMs: 2000 })
  const progress = (status.json?.progress as Record<string, unknown> | undefined)?.[id]
  const seen = status.outcome !== 'ok'
    ? `no status (${status.error ?? status.code ?? status.outcome})`
    : typeof progress === 'object' && progress !== null
      ? `commit ${String(status.json?.commitIndex)}, progress of ${id}: ${fields(progress as Record<string, unknown>)}`
      : `commit ${String(status.json?.commitIndex)}, no progress record for ${id}`
  return `${own}; leader ${leader}: ${seen}`
}

/** `key=value` for the scalar fields of `record` (the named ones, in that order, when given). */
function fields (record: Record<string, unknown>, names?: string[]): string {
  const keys = names ?? Object.keys(record)
  return keys.filter((key) => ['string', 'number', 'boolean'].includes(typeof record[key]) || record[key] === null)
    .map((key) => `${key}=${String(record[key])}`).join(' ')
}
