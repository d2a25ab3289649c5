import { InvalidMembershipError } from '@synod/interfaces'
import type { ClusterConfig, MembershipChange, NodeId } from '@synod/interfaces'

export function emptyConfig (): ClusterConfig {
  return { voters: [], learners: [], addresses: {} }
}

/** Every member: voters and learners. */
export function members (config: ClusterConfig): NodeId[] {
  return [...config.voters, ...config.learners]
}

function sorted (ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort()
}

/**
 * The configuration `change` produces from `current`; throws ERR_INVALID_MEMBERSHIP for an unsafe
 * change. With an activation window there is no joint phase: slots below the activation slot are
 * decided by the old voters, slots from it on by the new ones, and a new leader's phase 1 must
 * reach a phase-1 quorum of every configuration that governs an unchosen slot. So `joint` may
 * replace the voter set in one step.
 */
export function applyChange (current: ClusterConfig, change: MembershipChange): ClusterConfig {
  const voters = new Set(current.voters)
  const learners = new Set(current.learners)
  let addresses = { ...current.addresses }
  switch (change.type) {
    case 'add-voter':
      if (voters.has(change.id)) throw new InvalidMembershipError(`${change.id} is already a voter`)
      learners.delete(change.id)
      voters.add(change.id)
      addresses[change.id] = change.address
      break
    case 'add-learner':
      if (voters.has(change.id)) throw new InvalidMembershipError(`${change.id} is a voter; remove it before adding it as a learner`)
      if (learners.has(change.id)) throw new InvalidMembershipError(`${change.id} is already a learner`)
      learners.add(change.id)
      addresses[change.id] = change.address
      break
    case 'promote':
      if (!learners.has(change.id)) throw new InvalidMembershipError(`${change.id} is not a learner`)
      learners.delete(change.id)
      voters.add(change.id)
      break
    case 'remove':
      if (!voters.has(change.id) && !learners.has(change.id)) throw new InvalidMembershipError(`${change.id} is not a member`)
      if (voters.has(change.id) && voters.size === 1) throw new InvalidMembershipError('cannot remove the last voter')
      voters.delete(change.id)
      learners.delete(change.id)
      delete addresses[change.id]
      break
    case 'joint':
      voters.clear()
      learners.clear()
      for (const id of change.voters) voters.add(id)
      for (const id of change.learners) if (!voters.has(id)) learners.add(id)
      addresses = { ...current.addresses, ...change.addresses }
      break
  }
  if (voters.size === 0) throw new InvalidMembershipError('a configuration needs at least one voter')
  const kept: Record<NodeId, string> = {}
  for (const id of [...voters, ...learners]) {
    const address = addresses[id]
    if (address === undefined) throw new InvalidMembershipError(`no address for ${id}`)
    kept[id] = address
  }
  return { voters: sorted(voters), learners: sorted(learners), addresses: kept }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Config slots carry the whole resulting configuration. */
export function encodeConfig (config: ClusterConfig): Uint8Array {
  return encoder.encode(JSON.stringify({ voters: config.voters, learners: config.learners, addresses: config.addresses }))
}

export function decodeConfig (data: Uint8Array): ClusterConfig {
  const parsed = JSON.parse(decoder.decode(data)) as ClusterConfig
  return { voters: parsed.voters, learners: parsed.learners, addresses: parsed.addresses }
}
