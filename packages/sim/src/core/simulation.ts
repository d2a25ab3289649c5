import { InvalidArgumentError, TimeoutError, type Clock, type TimerHandle } from '@synod/interfaces'
import { createRandom, type SimRandom } from '../random/random.js'
import { SimulationFailedError } from './errors.js'
import { EventQueue, type EventKind, type ScheduledEvent } from './event-queue.js'
import { Trace, type TraceOptions } from './trace.js'

export type { EventKind } from './event-queue.js'

/** Options for `createSimulation`. */
export interface SimulationOptions {
  /** The seed that drives every random choice of the run. A non-negative safe integer. */
  seed: number
  /** What to keep of the event trace. @default the last 200 entries, digest of all */
  trace?: TraceOptions
  /**
   * Events allowed at one virtual instant before the run fails as a livelock (a timer that keeps
   * re-arming itself with a zero delay, two nodes ping-ponging with zero latency).
   * @default 1_000_000
   */
  maxEventsPerInstant?: number
}

/** A cancellable scheduled callback. */
export interface ScheduledTask {
  /** Virtual time at which it runs. */
  readonly time: number
  /** Cancels it if it has not run yet. */
  cancel(): void
}

/** Options for `Simulation.schedule`. */
export interface ScheduleOptions {
  /**
   * What the event is. Only `timer` events are ignored by `runUntilQuiet`, which waits for
   * everything else (messages in flight, disk syncs, tasks) to drain.
   * @default 'task'
   */
  kind?: EventKind
}

/** Options for the `run*` methods that stop on a condition. */
export interface RunLimitOptions {
  /**
   * Give up after this much virtual time (milliseconds from the call).
   * @default 60_000
   */
  timeout?: number
}

/** Counters of a run so far. */
export interface SimulationStats {
  /** Events processed. */
  events: number
}

/**
 * A discrete-event simulation: one virtual clock, one seeded random source and one ordered queue of
 * events. Nothing happens between events, so simulated hours run in seconds, and a run with the same
 * seed and the same code replays event for event.
 *
 * Async code inside the simulation (storage promises, `async` message handlers) runs to quiescence
 * between two events: the `run*` methods drain the microtask queue after every event, so a promise
 * resolved at virtual time t continues at time t.
 */
export interface Simulation {
  /** The run's seed. */
  readonly seed: number
  /** The root random stream; fork a named stream per consumer (`sim.random.fork('clients')`). */
  readonly random: SimRandom
  /** A `Clock` on virtual time for code that is not a simulated node (clients, checkers). */
  readonly clock: Clock
  /** The run's event trace. */
  readonly trace: Trace
  /** The failure that ended the run, if any. */
  readonly failure: SimulationFailedError | undefined
  readonly stats: Readonly<SimulationStats>
  /** Scheduled events not yet run (timers included). */
  readonly pendingEvents: number
  /** True while a `run*` call is in progress. */
  readonly running: boolean
  /** Current virtual time in milliseconds (starts at 0). */
  now(): number
  /** Runs `callback` after `delay` virtual milliseconds (0 = after the events already due now). */
  schedule(delay: number, callback: () => void, options?: ScheduleOptions): ScheduledTask
  /** Runs `callback` at virtual time `time` (clamped to now). */
  scheduleAt(time: number, callback: () => void, options?: ScheduleOptions): ScheduledTask
  /** Adds a line to the trace. */
  log(source: string, text: string): void
  /**
   * Starts an async task inside the simulation. If it rejects, the run fails with its error, so a
   * client loop or a checker cannot fail silently.
   */
  spawn(name: string, task: () => Promise<void>): void
  /**
   * Registers an invariant checked after every event: it fails the run by throwing or by returning
   * false or a message. Returns a function that removes it.
   */
  invariant(name: string, check: () => boolean | string | undefined | void): () => void
  /** Fails the run: the current or next `run*` call rejects with ERR_SIMULATION_FAILED. */
  fail(reason: unknown): void
  /**
   * Processes the next event synchronously, without draining microtasks. For fully synchronous
   * code (pure consensus cores); returns false when no event is left.
   */
  step(): boolean
  /** Runs every event due in the next `ms` milliseconds and leaves the clock at now + ms. */
  runFor(ms: number): Promise<void>
  /** Runs events until the clock reaches `time`. */
  runUntilTime(time: number): Promise<void>
  /**
   * Runs until `condition()` holds (checked before the first event and after each one). Resolves
   * true when it held, false when `timeout` passed first (the clock is then at the deadline).
   */
  runUntil(condition: () => boolean, options?: RunLimitOptions): Promise<boolean>
  /**
   * Runs until nothing but timers is pending: no message in flight, no disk sync, no task.
   * Resolves false if that did not happen within `timeout`.
   */
  runUntilQuiet(options?: RunLimitOptions): Promise<boolean>
  /**
   * Runs until `promise` settles and returns its outcome (a simulated write, a client request).
   * Rejects with ERR_TIMEOUT if it has not settled within `timeout`.
   */
  settle<T>(promise: Promise<T>, options?: RunLimitOptions): Promise<T>
}

const drainMicrotasks = async (): Promise<void> => {
  // A macrotask runs only after the microtask queue is empty, including microtasks queued by
  // microtasks, so awaiting one lets every promise chain started by the last event settle.
  await new Promise<void>((resolve) => { setImmediate(resolve) })
}

class DiscreteEventSimulation implements Simulation {
  readonly seed: number
  readonly random: SimRandom
  readonly trace: Trace
  readonly clock: Clock
  readonly stats: SimulationStats = { events: 0 }
  readonly #queue = new EventQueue()
  readonly #invariants = new Map<number, { name: string, check: () => boolean | string | undefined | void }>()
  readonly #maxEventsPerInstant: number
  #now = 0
  #seq = 0
  #invariantSeq = 0
  #eventsAtInstant = 0
  #running = false
  #failure: SimulationFailedError | undefined

  constructor (options: SimulationOptions) {
    this.seed = options.seed
    this.random = createRandom(options.seed)
    this.trace = new Trace(options.trace)
    this.#maxEventsPerInstant = options.maxEventsPerInstant ?? 1_000_000
    this.clock = {
      now: () => this.#now,
      setTimeout: (callback: () => void, ms: number): TimerHandle => this.schedule(ms, callback, { kind: 'timer' }),
      clearTimeout: (handle: TimerHandle) => {
        if (isScheduledTask(handle)) handle.cancel()
      }
    }
  }

  get failure (): SimulationFailedError | undefined {
    return this.#failure
  }

  get pendingEvents (): number {
    return this.#queue.size
  }

  get running (): boolean {
    return this.#running
  }

  now (): number {
    return this.#now
  }

  schedule (delay: number, callback: () => void, options: ScheduleOptions = {}): ScheduledTask {
    if (Number.isNaN(delay)) throw new InvalidArgumentError('schedule: delay is NaN', { field: 'delay' })
    return this.scheduleAt(this.#now + Math.max(0, delay), callback, options)
  }

  scheduleAt (time: number, callback: () => void, options: ScheduleOptions = {}): ScheduledTask {
    const event: ScheduledEvent = {
      time: Math.max(time, this.#now),
      seq: this.#seq++,
      kind: options.kind ?? 'task',
      run: callback,
      cancelled: false
    }
    this.#queue.push(event)
    const queue = this.#queue
    return new Task(event, queue)
  }

  log (source: string, text: string): void {
    this.trace.add({ time: this.#now, source, text })
  }

  spawn (name: string, task: () => Promise<void>): void {
    task().catch((err: unknown) => { this.fail(new Error(`task ${name} failed: ${errorMessage(err)}`, { cause: err })) })
  }

  invariant (name: string, check: () => boolean | string | undefined | void): () => void {
    const id = this.#invariantSeq++
    this.#invariants.set(id, { name, check })
    return () => { this.#invariants.delete(id) }
  }

  fail (reason: unknown): void {
    if (this.#failure !== undefined) return
    const message = errorMessage(reason)
    this.log('sim', `FAILED: ${message}`)
    this.#failure = new SimulationFailedError(`seed ${this.seed} failed at ${this.#now.toFixed(3)}ms: ${message}`, {
      seed: this.seed,
      time: this.#now,
      cause: reason
    })
  }

  step (): boolean {
    const event = this.#queue.pop()
    if (event === undefined) return false
    if (event.time > this.#now) {
      this.#now = event.time
      this.#eventsAtInstant = 0
    } else if (++this.#eventsAtInstant > this.#maxEventsPerInstant) {
      this.fail(new Error(`livelock: more than ${this.#maxEventsPerInstant} events at ${this.#now}ms without time advancing`))
      return true
    }
    this.stats.events++
    try {
      event.run()
    } catch (err) {
      this.fail(err)
    }
    this.#checkInvariants()
    return true
  }

  async runFor (ms: number): Promise<void> {
    await this.runUntilTime(this.#now + ms)
  }

  async runUntilTime (time: number): Promise<void> {
    await this.#run(() => false, time)
    if (this.#now < time) this.#now = time
  }

  async runUntil (condition: () => boolean, options: RunLimitOptions = {}): Promise<boolean> {
    const deadline = this.#now + (options.timeout ?? 60_000)
    return await this.#run(condition, deadline)
  }

  async runUntilQuiet (options: RunLimitOptions = {}): Promise<boolean> {
    return await this.runUntil(() => this.#queue.activity === 0, options)
  }

  async settle<T>(promise: Promise<T>, options: RunLimitOptions = {}): Promise<T> {
    let settled = false
    const tracked = promise.finally(() => { settled = true })
    tracked.catch(() => {})
    const timeout = options.timeout ?? 60_000
    if (!await this.runUntil(() => settled, { timeout })) {
      throw new TimeoutError(`the promise did not settle within ${timeout}ms of virtual time`, { indeterminate: true })
    }
    return await tracked
  }

  /** The loop: one event, then let async work settle, until `condition` holds or time runs out. */
  async #run (condition: () => boolean, deadline: number): Promise<boolean> {
    if (this.#running) throw new InvalidArgumentError('the simulation is already running; run* calls must not overlap')
    this.#running = true
    try {
      await drainMicrotasks()
      this.#throwIfFailed()
      for (;;) {
        if (condition()) return true
        const next = this.#queue.peek()
        if (next === undefined || next.time > deadline) {
          // Nothing happens before the deadline, so the time until it passes uneventfully.
          if (Number.isFinite(deadline) && deadline > this.#now) this.#now = deadline
          return false
        }
        this.step()
        await drainMicrotasks()
        this.#throwIfFailed()
      }
    } finally {
      this.#running = false
    }
  }

  #checkInvariants (): void {
    for (const { name, check } of this.#invariants.values()) {
      try {
        const result = check()
        if (result === false) this.fail(new Error(`invariant ${name} violated`))
        else if (typeof result === 'string') this.fail(new Error(`invariant ${name} violated: ${result}`))
      } catch (err) {
        this.fail(new Error(`invariant ${name} violated: ${errorMessage(err)}`, { cause: err }))
      }
    }
  }

  #throwIfFailed (): void {
    if (this.#failure !== undefined) throw this.#failure
  }
}

class Task implements ScheduledTask {
  readonly #event: ScheduledEvent
  readonly #queue: EventQueue

  constructor (event: ScheduledEvent, queue: EventQueue) {
    this.#event = event
    this.#queue = queue
  }

  get time (): number {
    return this.#event.time
  }

  cancel (): void {
    this.#queue.cancel(this.#event)
  }
}

function isScheduledTask (value: unknown): value is ScheduledTask {
  return value instanceof Task
}

/** A one-line message for any thrown value. */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  return typeof err === 'string' ? err : String(err)
}

/**
 * Creates a simulation.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 7 })
 * sim.schedule(1000, () => { sim.log('demo', 'one simulated second later') })
 * await sim.runUntilQuiet()
 * ```
 */
export function createSimulation (options: SimulationOptions): Simulation {
  return new DiscreteEventSimulation(options)
}
