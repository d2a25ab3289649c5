/**
 * @packageDocumentation
 *
 * The contracts every Synod package implements or consumes: transport, storage, the replicated log
 * and its state machine, clock, randomness, logging, lifecycle, and the typed errors.
 *
 * It holds types plus the error classes and a few guards, so depending on it costs nothing.
 *
 * @example
 * ```ts
 * import { NotLeaderError, isSynodError } from '@synod/interfaces'
 *
 * try {
 *   throw new NotLeaderError('not the leader', { leaderHint: 'n2' })
 * } catch (err) {
 *   if (isSynodError(err, 'ERR_NOT_LEADER')) console.log('retry on', (err as NotLeaderError).leaderHint)
 * }
 * ```
 */
export * from './abort.js'
export * from './clock.js'
export * from './errors.js'
export * from './events.js'
export * from './lifecycle.js'
export * from './logger.js'
export * from './membership.js'
export * from './random.js'
export * from './replicated-log.js'
export * from './state-machine.js'
export * from './storage.js'
export * from './transport.js'
