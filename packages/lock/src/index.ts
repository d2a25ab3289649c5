/**
 * @packageDocumentation
 *
 * A distributed lock service on any `ReplicatedLog` (Raft, Paxos, or the in-memory log in
 * `@synod/lock/testing`): sessions with TTL leases kept alive by the client, FIFO mutexes without
 * a thundering herd, try-lock, read/write locks, counting semaphores, Chubby's lock-delay, and
 * fencing tokens that strictly increase per lock name across leaders and restarts.
 *
 * Three parts: the deterministic {@link createLockStateMachine | state machine} every replica
 * applies; the per-replica {@link createLockService | service} that serves clients and, on the
 * leader only, proposes lease expiries; and the {@link createLockClient | client}.
 *
 * @example
 * ```ts
 * import { createFencedResource, createLockClient, createLockService, createLockStateMachine } from '@synod/lock'
 * import { createMemoryCluster } from '@synod/lock/testing'
 *
 * const cluster = createMemoryCluster({ machine: () => createLockStateMachine() })
 * const log = cluster.log('n1')
 * const service = createLockService({ log, machine: cluster.machine('n1') })
 * await log.start()
 * await service.start()
 *
 * const locks = createLockClient({ servers: [service] }, { ttlMs: 5000 })
 * const counter = createFencedResource(0)
 * await locks.withLock('counter', async (_signal, lock) => {
 *   const value = counter.read(lock.token)
 *   counter.update(lock.token, () => value + 1)
 * })
 * await locks.stop()
 * await service.stop()
 * await log.stop()
 * ```
 */
export * from './machine/commands.js'
export { encodeCommand, decodeCommand } from './machine/codec.js'
export * from './machine/lock-machine.js'
export type { Holder, LockDelay, Waiter } from './machine/lock-table.js'
export * from './service/lock-server.js'
export * from './service/lock-service.js'
export { parseLockRequest, parseGrantWait } from './service/parse-request.js'
export * from './client/types.js'
export * from './client/lock-client.js'
export * from './fenced-resource.js'
export { systemClock } from './system-clock.js'
