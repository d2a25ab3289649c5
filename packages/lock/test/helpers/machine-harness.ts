import { createLockStateMachine, encodeCommand } from '../../src/index.js'
import type { LockCommand, LockMachineEvents, LockResult, LockStateMachine, LockStateMachineOptions } from '../../src/index.js'

export interface Harness {
  machine: LockStateMachine
  /** Applies one command at the next index. */
  run(command: LockCommand): LockResult
  readonly index: number
  readonly grants: Array<LockMachineEvents['granted']>
  /** Opens a session and returns its id. */
  open(ttlMs?: number): number
}

/** Applies commands straight to a lock state machine, one log index after another. */
export function harness (options: LockStateMachineOptions = { minTtlMs: 10 }): Harness {
  const machine = createLockStateMachine(options)
  const grants: Array<LockMachineEvents['granted']> = []
  machine.addEventListener('granted', (event) => { grants.push(event.detail) })
  let index = 0
  const run = (command: LockCommand): LockResult => machine.apply({ index: ++index, term: 1, data: encodeCommand(command) })
  return {
    machine,
    run,
    get index () { return index },
    grants,
    open (ttlMs = 1000) {
      const result = run({ type: 'open-session', ttlMs })
      if (result.type !== 'session-opened') throw new Error(`open failed: ${JSON.stringify(result)}`)
      return result.session
    }
  }
}

export function acquire (session: number, request: number, name: string, extra: Partial<Extract<LockCommand, { type: 'acquire' }>> = {}): LockCommand {
  return { type: 'acquire', session, request, name, mode: 'exclusive', permits: 1, limit: 0, wait: true, lockDelayMs: 0, ...extra }
}

export function release (session: number, request: number, name: string): LockCommand {
  return { type: 'release', session, request, name }
}
