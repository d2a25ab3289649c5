import { InvalidArgumentError } from '@synod/interfaces'
import type { PolicyName } from '../types.js'
import { consistentHash, type ConsistentHashOptions } from './consistent-hash.js'
import { leastRequest, p2cLeastRequest } from './least-request.js'
import { p2cPeakEwma, type PeakEwmaOptions } from './peak-ewma.js'
import type { Policy } from './policy.js'
import { randomChoice } from './random.js'
import { roundRobin } from './round-robin.js'
import { weightedRoundRobin } from './weighted-round-robin.js'

/** Options that only some policies read. */
export interface PolicyOptions {
  /**
   * Tuning of `p2c-peak-ewma`.
   * @default { decayMs: 10000 }
   */
  peakEwma?: PeakEwmaOptions
  /**
   * Tuning of `consistent-hash`.
   * @default { balanceFactor: 1.25, vnodes: 256 }
   */
  consistentHash?: ConsistentHashOptions
}

/** Every policy this build supports. */
export const POLICY_NAMES: readonly PolicyName[] = [
  'round-robin', 'weighted-round-robin', 'random', 'least-request', 'p2c-least-request', 'p2c-peak-ewma', 'consistent-hash'
]

export function createPolicy (name: PolicyName, options: PolicyOptions): Policy {
  switch (name) {
    case 'round-robin': return roundRobin()
    case 'weighted-round-robin': return weightedRoundRobin()
    case 'random': return randomChoice()
    case 'least-request': return leastRequest()
    case 'p2c-least-request': return p2cLeastRequest()
    case 'p2c-peak-ewma': return p2cPeakEwma(options.peakEwma)
    case 'consistent-hash': return consistentHash(options.consistentHash)
    default: throw new InvalidArgumentError(`unknown balancing policy ${String(name)}`, { field: 'policy' })
  }
}
