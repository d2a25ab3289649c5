import { InvalidArgumentError } from '@synod/interfaces'
import type { NodeId } from '@synod/interfaces'

/**
 * Quorum sizes for a voter set. Flexible Paxos (Howard, Malkhi, Spiegelman 2016, §3): safety only
 * needs every phase-1 quorum to intersect every phase-2 quorum, i.e. `phase1 + phase2 > voters`.
 * A small phase-2 quorum makes the steady state cheaper at the cost of larger leader elections.
 */
export interface QuorumSizes {
  phase1: number
  phase2: number
}

/** How quorum sizes are chosen for a voter count: fixed sizes, or majorities when unset. */
export interface QuorumPolicy {
  /** Phase-1 (prepare/promise) quorum size. @default a majority */
  phase1Quorum?: number | undefined
  /** Phase-2 (accept/accepted) quorum size. @default a majority */
  phase2Quorum?: number | undefined
}

export function majority (voters: number): number {
  return Math.floor(voters / 2) + 1
}

/**
 * The quorum sizes for `voters`, or an ERR_INVALID_ARGUMENT error when a phase-1 quorum could miss
 * a phase-2 quorum (`phase1 + phase2 <= voters`) or a size is out of range.
 */
export function quorumSizes (voters: number, policy: QuorumPolicy): QuorumSizes {
  const phase1 = Math.min(policy.phase1Quorum ?? majority(voters), voters)
  const phase2 = Math.min(policy.phase2Quorum ?? majority(voters), voters)
  if (voters === 0) return { phase1: 1, phase2: 1 }
  if (!Number.isInteger(phase1) || phase1 < 1) throw new InvalidArgumentError('phase1Quorum must be a positive integer', { field: 'phase1Quorum' })
  if (!Number.isInteger(phase2) || phase2 < 1) throw new InvalidArgumentError('phase2Quorum must be a positive integer', { field: 'phase2Quorum' })
  if (phase1 + phase2 <= voters) {
    throw new InvalidArgumentError(
      `quorums do not intersect: phase-1 quorum ${phase1} + phase-2 quorum ${phase2} must exceed ${voters} voters`,
      { field: 'phase2Quorum' }
    )
  }
  return { phase1, phase2 }
}

/** True when the voters in `acks` form a quorum of `size` among `voters`. */
export function hasQuorum (voters: readonly NodeId[], size: number, acks: (id: NodeId) => boolean): boolean {
  let count = 0
  for (const id of voters) if (acks(id) && ++count >= size) return true
  return false
}
