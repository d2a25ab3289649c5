/**
 * @packageDocumentation
 *
 * Deterministic simulation of Synod clusters. A whole cluster runs in one process on virtual time,
 * a simulated network and simulated disks, with every random choice drawn from one seed, so a run
 * that finds a bug replays exactly from its seed.
 *
 * - `createSimulation({ seed })`: the discrete-event loop, its virtual `Clock`, the seeded `Random`
 *   (xoshiro128** with named forked streams) and the event trace.
 * - `createSimNetwork(sim)`: endpoints implementing `Transport`, with per-link latency, loss,
 *   duplication, reordering and bandwidth, and partitions (halves, isolate, bridge, majority ring,
 *   one-way).
 * - `createSimDisk(sim)`: `LogStorage`, `HardStateStorage` and `SnapshotStorage` whose writes
 *   resolve after a simulated fsync and whose crashes lose what was not synced.
 * - `createSimCluster` / `createSimNode`: machines whose processes crash and restart on their disk.
 * - `createNemesis(cluster)`: scripted or random faults (partitions, crashes, slow or lossy nodes,
 *   fsync stalls), written to the trace.
 * - `Workload`, `runSeed` and `runSimCli`: pluggable workloads and the `synod-sim` command line.
 * - `createMemoryNetwork()`: a real-time, fault-free in-process network for examples and benchmarks.
 * - `runInBackground(sim)`: drives a simulation from outside, so plain `await`s on simulated I/O finish.
 * - `createManualClock()`: a `Clock` for unit tests whose time moves only on `advance(ms)`, firing
 *   due timers synchronously in order, without a simulation.
 *
 * @example
 * ```ts
 * import { createSimulation, createSimNetwork, createSimDisk } from '@synod/sim'
 *
 * const sim = createSimulation({ seed: 42 })
 * const net = createSimNetwork(sim, { loss: 0.01 })
 * const a = net.endpoint<string>('a', { peers: ['b'] })
 * const b = net.endpoint<string>('b', { peers: ['a'] })
 * b.onMessage((from, text) => { sim.log('b', `${from} says ${text}`) })
 * await a.start(); await b.start()
 * a.send('b', 'hello')
 *
 * const disk = createSimDisk(sim, { name: 'a' })
 * const log = disk.log()
 * await log.start()
 * const appended = log.append([{ index: 1, term: 1, type: 'noop', data: new Uint8Array() }])
 * await sim.runUntilQuiet() // delivers the message and completes the fsync, in virtual time
 * await appended
 * console.log(sim.trace.format())
 * ```
 */
export { createRandom, assertSeed, type SimRandom } from './random/random.js'
export { constant, uniform, exponential, normal, mixture, type Distribution } from './random/distributions.js'
export {
  createSimulation, errorMessage,
  type Simulation, type SimulationOptions, type SimulationStats, type ScheduledTask, type ScheduleOptions,
  type RunLimitOptions, type EventKind
} from './core/simulation.js'
export { runInBackground, type BackgroundOptions } from './core/background.js'
export { createProcessClock, type ProcessClock, type ProcessClockOptions } from './core/process-clock.js'
export { Trace, formatTraceEntry, describeValue, type TraceEntry, type TraceOptions } from './core/trace.js'
export { SimulationFailedError, RunawayTimersError } from './core/errors.js'
export { createManualClock, type ManualClock, type ManualClockOptions } from './clock/manual-clock.js'
export {
  createSimNetwork,
  type SimNetwork, type SimNetworkOptions, type SimTransport, type EndpointOptions, type NetworkStats
} from './network/sim-network.js'
export type { LinkOptions } from './network/link.js'
export type { PartitionPlan } from './network/partitions.js'
export { createMemoryNetwork, type MemoryNetwork, type MemoryNetworkOptions } from './network/memory-network.js'
export { createSimDisk, type SimDisk, type SimDiskOptions, type DiskCrashOptions, type CrashReport } from './disk/sim-disk.js'
export type { SimSnapshotStorage } from './disk/snapshot-file.js'
export {
  createSimNode,
  type SimNode, type SimNodeOptions, type SimNodeContext, type NodeCrashOptions
} from './cluster/sim-node.js'
export { createSimCluster, type SimCluster, type SimClusterOptions } from './cluster/sim-cluster.js'
export { createNemesis, allFaults, type Nemesis, type NemesisOptions, type FaultKind, type ScenarioStep } from './nemesis/nemesis.js'
export {
  defineWorkload, runSeed,
  type Workload, type WorkloadContext, type WorkloadStats, type RunSeedOptions, type SeedResult
} from './workload/workload.js'
export { runSimCli, type SimCliOptions, type CliOutput } from './cli/run-sim-cli.js'
export { loadWorkloads, resolveFromDirectory, workloadsOf } from './cli/load-workloads.js'
export { exampleWorkloads, registerWorkload, naiveRegisterWorkload } from './examples/register.js'
