/**
 * @packageDocumentation
 *
 * The Synod fault-injection suite: the shipped node, as users run it, under a nemesis. Each run
 * builds its own hosts (one network namespace per node, one for the load generator, and one holding
 * the Linux bridge that joins them), starts `synod start` in each (Raft, then Paxos), drives a KV
 * register workload, an acknowledged-writes set workload and a fenced-counter lock workload from
 * the client namespace, and meanwhile cuts links with nft rules in the bridge namespace, drops
 * packets at random, `kill -9`s and restarts nodes, SIGSTOPs the leader past its lease, skews one
 * node's clock with libfaketime, and removes and re-adds members (also during partitions). The
 * register history is checked by `@synod/lincheck`; every acknowledged add must be present at the
 * end; the lock workload must lose no update and see strictly increasing fencing tokens.
 *
 * Run it with `pnpm --filter @synod/faults test:faults -- --profile short` (root needed). The pure
 * pieces (partitions, nft rules, schedules, summaries) are exported for reuse and unit tests.
 *
 * @example
 * ```ts
 * import { buildSchedule, createSeededRandom, majorityRing, nftScript } from '@synod/faults'
 *
 * const nodes = ['n1', 'n2', 'n3', 'n4', 'n5']
 * const { cuts } = majorityRing(nodes, createSeededRandom(7))
 * console.log(nftScript({ cuts }, (id) => `10.77.0.${10 + Number(id.slice(1))}`, nodes))
 * console.log(buildSchedule({ seed: 7, durationMs: 60_000 }).map((step) => step.kinds.join('+')))
 * ```
 */
export { createSeededRandom } from './random.js'
export type { SeededRandom } from './random.js'
export { createTopology, namespacesOf, setupCommands } from './topology.js'
export type { NodeHost, Topology, TopologyOptions } from './topology.js'
export { bridge, cutBetween, isolate, majorityRing, oneWay, randomHalves, reachability } from './net/grudge.js'
export type { Cut } from './net/grudge.js'
export { NFT_TABLE, nftHealScript, nftScript } from './net/nft.js'
export type { NetworkFaults } from './net/nft.js'
export { buildSchedule, CLOCK_FAULTS, FAULT_KINDS, MEMBERSHIP_FAULTS, NETWORK_FAULTS } from './nemesis/schedule.js'
export { describeCatchUp, readMembers, removeMember, restoreVoter } from './nemesis/membership.js'
export type { AdminCall, AdminReply, MemberEntry, MembershipComponents, RemoveResult, RestoreResult, RestoreTarget } from './nemesis/membership.js'
export { checkLockRun } from './locks/check.js'
export type { GrantRecord, LockCheck, LockRun } from './locks/check.js'
export { createFencedCounter } from './locks/fenced-counter.js'
export type { CounterAccess, FencedCounter } from './locks/fenced-counter.js'
export { createHttpLockServer, createTrafficGate } from './locks/http-lock-server.js'
export type { TrafficGate } from './locks/http-lock-server.js'
export type { FaultKind, ScheduledFault, ScheduleOptions } from './nemesis/schedule.js'
export type { InjectedFault } from './nemesis/nemesis.js'
export { PROFILES } from './run/profiles.js'
export type { Profile } from './run/profiles.js'
export { availability, countLeadership, countOps, leaderChangesByFault, longestOutageMs, verdictTable } from './report/summary.js'
export type { AvailabilityWindow, CheckLine, LeaderSample, LeadershipCount, OpCounts } from './report/summary.js'
export { checkSet, setKey } from './client/workloads.js'
export type { SetOutcome } from './client/workloads.js'
export { classifyReply } from './client/http.js'
export type { Attempt } from './client/http.js'
