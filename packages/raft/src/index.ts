/**
 * @packageDocumentation
 *
 * Raft consensus for Synod, in two layers:
 *
 * - `createRaftCore(config)`: a pure, synchronous, deterministic Raft state machine (`tick`,
 *   `step`, `propose`, `ready`, `advance`) with pre-vote, check-quorum, ReadIndex and lease reads,
 *   joint consensus and learners, leadership transfer, flow control and snapshots. It performs no
 *   I/O and reads no clock; entry bodies it no longer caches are fetched by the driver on request.
 * - `createRaftNode(init, components)`: the driver implementing the `ReplicatedLog` contract over a
 *   Transport, LogStorage, HardStateStorage, SnapshotStorage, StateMachine and Clock.
 *
 * @example
 * ```ts
 * import { createRaftCore } from '@synod/raft'
 *
 * const log = { firstIndex: () => 1, lastIndex: () => 0, term: (i: number) => (i === 0 ? 0 : undefined) }
 * const core = createRaftCore({
 *   id: 'n1',
 *   storage: log,
 *   random: { next: () => 0.5, int: (n) => Math.floor(n / 2) },
 *   snapshot: { index: 0, term: 0, config: { voters: ['n1'], learners: [], addresses: { n1: 'local' } } }
 * })
 * core.campaign()
 * const ready = core.ready()
 * core.advance(ready)
 * console.log(core.status().role) // 'leader'
 * ```
 */
export * from './core/index.js'
export * from './node/index.js'
