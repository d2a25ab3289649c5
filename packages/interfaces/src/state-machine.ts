import type { AbortOptions } from './abort.js'

/** A committed command handed to the state machine. */
export interface AppliedCommand {
  index: number
  term: number
  data: Uint8Array
}

/**
 * The deterministic application that a ReplicatedLog replicates. Every replica applies the same
 * commands in the same order, exactly once each, so every replica reaches the same state.
 *
 * `apply` must be deterministic: no clocks, randomness or I/O that changes its result. Time-based
 * decisions (lease expiry) are made by the leader and proposed as commands.
 */
export interface StateMachine<Result = unknown> {
  /** Applies one committed command; the result is returned to the proposer on the node that proposed it. */
  apply(command: AppliedCommand): Result
  /**
   * The index of the last command whose effects are durable in the machine's own storage (a
   * StateStore), or 0 if it keeps nothing durable. After a restart the log replays from here.
   */
  appliedIndex?(): number
  /** A consistent stream of the state as of the last applied command. */
  snapshot(options?: AbortOptions): AsyncIterable<Uint8Array>
  /** Replaces the whole state with a snapshot taken as of `index`. */
  restore(chunks: AsyncIterable<Uint8Array>, meta: { index: number, term: number }, options?: AbortOptions): Promise<void>
}
