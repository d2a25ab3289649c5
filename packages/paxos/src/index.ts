/**
 * @packageDocumentation
 *
 * Multi-Paxos for Synod: a pure, synchronous, deterministic core (`createPaxosCore`) with a
 * stable leader (phase 1 once for every unchosen slot, then phase 2 only; a pre-vote before phase
 * 1, so a replica cut off from a live leader does not depose it on its return), flexible quorums,
 * leases and read barriers, no-op gap filling, membership through the log with an activation
 * window, snapshots, and recovery of replicas that lost their state; and a driver
 * (`createPaxosNode`) implementing the `ReplicatedLog` contract, interchangeable with Raft's.
 *
 * @example
 * ```ts
 * import { createPaxosCore } from '@synod/paxos'
 *
 * const core = createPaxosCore({
 *   id: 'n1',
 *   random: { next: () => 0.5, int: (n) => Math.floor(n / 2) },
 *   snapshot: { index: 0, term: 0, config: { voters: ['n1'], learners: [], addresses: { n1: 'local' } } }
 * })
 * core.campaign()
 * core.advance(core.ready())
 * console.log(core.status().role) // 'leader'
 * ```
 */
export * from './core/index.js'
export * from './node/index.js'
