import { InvalidMembershipError } from '@synod/interfaces'
import type { ClusterConfig, MembershipChange, NodeId } from '@synod/interfaces'

/** An empty configuration: a node that has not yet learned its cluster. */
export function emptyConfig (): ClusterConfig {
  return { voters: [], learners: [], addresses: {} }
}

export function isJoint (config: ClusterConfig): boolean {
  return config.outgoingVoters !== undefined && config.outgoingVoters.length > 0
}

/** Every member (voters of both halves and learners). */
export function members (config: ClusterConfig): Set<NodeId> {
  return new Set([...config.voters, ...(config.outgoingVoters ?? []), ...config.learners])
}

/** True if `id` votes in `config` (in either half of a joint configuration). */
export function isVoter (config: ClusterConfig, id: NodeId): boolean {
  return config.voters.includes(id) || (config.outgoingVoters ?? []).includes(id)
}

/** Checks a configuration's shape; throws ERR_INVALID_MEMBERSHIP. */
export function validateConfig (config: ClusterConfig): void {
  if (config.voters.length === 0) throw new InvalidMembershipError('a configuration needs at least one voter')
  const voters = new Set(config.voters)
  if (voters.size !== config.voters.length) throw new InvalidMembershipError('duplicate voter')
  if (new Set(config.learners).size !== config.learners.length) throw new InvalidMembershipError('duplicate learner')
  for (const learner of config.learners) {
    if (voters.has(learner)) throw new InvalidMembershipError(`${learner} cannot be both a voter and a learner`)
  }
}

function symmetricDifference (a: readonly NodeId[], b: readonly NodeId[]): number {
  const setA = new Set(a)
  const setB = new Set(b)
  let diff = 0
  for (const x of setA) if (!setB.has(x)) diff++
  for (const x of setB) if (!setA.has(x)) diff++
  return diff
}

function sorted (ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort()
}

/**
 * Computes the configuration that `change` produces from `current`, or throws
 * ERR_INVALID_MEMBERSHIP when the change is unsafe:
 *
 * - single-server changes (add-voter, add-learner, promote, remove) may change the voter set by at
 *   most one server (dissertation §4.1), so any two majorities overlap;
 * - `joint` may replace the voter set arbitrarily and goes through a joint configuration (§4.3);
 * - no change starts while a joint configuration is in effect (it must be left first);
 * - the last voter cannot be removed.
 */
export function applyChange (current: ClusterConfig, change: MembershipChange): ClusterConfig {
  if (isJoint(current)) throw new InvalidMembershipError('a joint configuration change is still in progress')
  const voters = new Set(current.voters)
  const learners = new Set(current.learners)
  const addresses = { ...current.addresses }
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
    case 'joint': {
      const next: ClusterConfig = {
        voters: sorted(new Set(change.voters)),
        learners: sorted(new Set(change.learners)),
        addresses: { ...current.addresses, ...change.addresses }
      }
      validateConfig(next)
      for (const id of [...next.voters, ...next.learners]) {
        if (next.addresses[id] === undefined) throw new InvalidMembershipError(`no address for ${id}`)
      }
      if (symmetricDifference(current.voters, next.voters) === 0) {
        // Only learners change: no joint phase is needed.
        return pruneAddresses(next, new Set(next.voters))
      }
      return pruneAddresses({ ...next, outgoingVoters: sorted(current.voters) }, new Set([...next.voters, ...current.voters]))
    }
  }
  const next: ClusterConfig = { voters: sorted(voters), learners: sorted(learners), addresses }
  validateConfig(next)
  return next
}

function pruneAddresses (config: ClusterConfig, keep: Set<NodeId>): ClusterConfig {
  for (const id of config.learners) keep.add(id)
  const addresses: Record<NodeId, string> = {}
  for (const id of keep) {
    const address = config.addresses[id]
    if (address !== undefined) addresses[id] = address
  }
  return { ...config, addresses }
}

/** The configuration that ends a joint phase: the incoming voters alone (dissertation §4.3). */
export function leaveJoint (config: ClusterConfig): ClusterConfig {
  return pruneAddresses({ voters: config.voters, learners: config.learners, addresses: config.addresses }, new Set(config.voters))
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Config entries carry the whole resulting configuration, so replaying one needs no earlier state. */
export function encodeConfig (config: ClusterConfig): Uint8Array {
  return encoder.encode(JSON.stringify(config))
}

export function decodeConfig (data: Uint8Array): ClusterConfig {
  const parsed = JSON.parse(decoder.decode(data)) as ClusterConfig
  return {
    voters: parsed.voters,
    learners: parsed.learners,
    addresses: parsed.addresses,
    ...(parsed.outgoingVoters !== undefined ? { outgoingVoters: parsed.outgoingVoters } : {})
  }
}
