/**
 * Test utilities: an in-memory `ReplicatedLog` cluster with explicit control over leadership and
 * partitions, for testing code built on `@synod/lock` (or any state machine) without Raft or Paxos.
 *
 * @packageDocumentation
 */
export * from './testing/memory-cluster.js'
