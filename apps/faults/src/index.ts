/**
 * @packageDocumentation
 *
 * The Synod fault-injection suite: the shipped node, as users run it, under a nemesis. Each run
 * builds its own hosts (one network namespace per node, one for the load generator, and one holding
 * the Linux bridge that joins them), starts `synod start` in each, drives a KV register workload
 * and an acknowledged-writes set workload from the client namespace, and meanwhile cuts links with
 * nft rules in the bridge namespace, drops packets at random, `kill -9`s and restarts nodes,
 * SIGSTOPs the leader past its lease and skews one node's clock with libfaketime. The register
 * history is checked by `@synod/lincheck`; every acknowledged add must be present at the end.
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
export { buildSchedule, CLOCK_FAULTS, FAULT_KINDS, NETWORK_FAULTS } from './nemesis/schedule.js'
export type { FaultKind, ScheduledFault, ScheduleOptions } from './nemesis/schedule.js'
export type { InjectedFault } from './nemesis/nemesis.js'
export { PROFILES } from './run/profiles.js'
export type { Profile } from './run/profiles.js'
export { availability, countOps, longestOutageMs, verdictTable } from './report/summary.js'
export type { AvailabilityWindow, CheckLine, OpCounts } from './report/summary.js'
export { checkSet, setKey } from './client/workloads.js'
export type { SetOutcome } from './client/workloads.js'
export { classifyReply } from './client/http.js'
export type { Attempt } from './client/http.js'
