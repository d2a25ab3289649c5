import { AbortError, BadFrameError, InvalidArgumentError, NotStartedError, SessionExpiredError, StoppedError, throwIfAborted } from '@synod/interfaces'
import type { AbortOptions, Clock, Logger, NodeId, ReplicatedLog, Startable } from '@synod/interfaces'
import { encodeCommand } from '../machine/codec.js'
import type { LockResult } from '../machine/commands.js'
import type { LockStateMachine } from '../machine/lock-machine.js'
import { systemClock } from '../system-clock.js'
import { GrantWaiters } from './grant-waiters.js'
import { LeaseExpirer } from './lease-expirer.js'
import type { ExecuteOptions, GrantWait, LockRequest, LockResponse, LockServer } from './lock-server.js'

export interface LockServiceComponents {
  /** This replica's log; its state machine must be `machine`. Raft, Paxos or anything else. */
  log: ReplicatedLog<unknown>
  machine: LockStateMachine
  /** Drives lease expiry on the leader. @default systemClock */
  clock?: Clock
  logger?: Logger
}

export interface LockServiceOptions {
  /** How often the leader looks for leases that ran out; expiry can be this much late. @default 100 */
  sweepIntervalMs?: number
  /** Timeout of each proposal this service makes when the caller gives none. @default 5000 */
  proposeTimeoutMs?: number
}

/** The lock service of one replica: serves clients (`LockServer`) and, while leader, expires leases. */
export interface LockService extends LockServer, Startable {}

class Service implements LockService {
  readonly #log: ReplicatedLog<unknown>
  readonly #machine: LockStateMachine
  readonly #expirer: LeaseExpirer
  readonly #waiters: GrantWaiters
  readonly #proposeTimeoutMs: number
  #started = false

  constructor (components: LockServiceComponents, options: LockServiceOptions) {
    this.#log = components.log
    this.#machine = components.machine
    this.#proposeTimeoutMs = options.proposeTimeoutMs ?? 5000
    const logger = components.logger?.child({ component: 'lock', node: components.log.id })
    this.#expirer = new LeaseExpirer(this.#log, this.#machine, components.clock ?? systemClock, logger, {
      sweepIntervalMs: options.sweepIntervalMs ?? 100,
      proposeTimeoutMs: this.#proposeTimeoutMs
    })
    this.#waiters = new GrantWaiters(this.#machine)
  }

  get id (): NodeId {
    return this.#log.id
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#waiters.start()
    this.#expirer.start()
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#expirer.stop()
    this.#waiters.stop(new StoppedError('lock service stopped'))
  }

  async execute (request: LockRequest, options: ExecuteOptions = {}): Promise<LockResponse> {
    if (!this.#started) throw new NotStartedError('lock service is not started')
    throwIfAborted(options.signal)
    // The leader re-checks the lease before a grant: a session whose lease ran out on the leader's
    // clock is expired through the log first, so the acquire below is refused in log order.
    if (request.type === 'acquire' && this.#expirer.isOverdue(request.session)) await this.#expirer.expireNow(request.session)
    const { index, result } = await this.#log.propose(encodeCommand(request), {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.#proposeTimeoutMs
    })
    return { index, result: unwrap(result as LockResult) }
  }

  async awaitGrant (wait: GrantWait, options: AbortOptions = {}): Promise<{ token: number }> {
    if (!this.#started) throw new NotStartedError('lock service is not started')
    throwIfAborted(options.signal)
    return await this.#waiters.wait(wait, options.signal, () => new AbortError(undefined, { cause: options.signal?.reason }))
  }
}

function unwrap (result: LockResult): LockResponse['result'] {
  if (result.type !== 'error') return result
  switch (result.code) {
    case 'ERR_SESSION_EXPIRED': throw new SessionExpiredError(result.message)
    case 'ERR_BAD_FRAME': throw new BadFrameError(result.message)
    case 'ERR_INVALID_ARGUMENT': throw new InvalidArgumentError(result.message)
  }
}

/**
 * Creates the lock service of one replica. Start it with the log; every replica runs one, and the
 * one on the leader expires leases.
 */
export function createLockService (components: LockServiceComponents, options: LockServiceOptions = {}): LockService {
  return new Service(components, options)
}
