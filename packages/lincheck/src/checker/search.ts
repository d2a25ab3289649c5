import type { Model } from '../models/model.js'
import { Bitset, Memo } from './bitset.js'

/** One operation of a partition, as the search sees it. */
export interface SearchOp<Input> {
  readonly input: Input
  readonly call: number
  /** Return time; `null` when the outcome is unknown: it may take effect any time after `call`, or never. */
  readonly return: number | null
}

/** The deepest point the search reached before every way forward was closed. */
export interface DeadEnd<State> {
  /** Operations linearized, in order, each with the state after it. */
  readonly linearized: ReadonlyArray<{ readonly op: number, readonly stateAfter: State }>
  /** The state after the last linearized operation. */
  readonly state: State
  /** The pending operation whose return was reached: it had to be linearized by then and could not be. */
  readonly blocking: number
  /** Operations that could have been linearized next (called before `blocking` returned). */
  readonly candidates: readonly number[]
}

export type SearchResult<State> =
  | { readonly kind: 'linearizable', readonly steps: number }
  | { readonly kind: 'not-linearizable', readonly steps: number, readonly deadEnd: DeadEnd<State> | undefined }
  | { readonly kind: 'gave-up', readonly steps: number }

export interface SearchOptions {
  /** Record the deepest dead end, for a report. Costs a copy of the stack's references at each new depth record. */
  readonly trackDeadEnd: boolean
  /** Polled every few thousand steps; true stops the search with `gave-up`. */
  readonly shouldStop: () => boolean
  /**
   * Where timed-out operations are tried. `by-call`: in call order among the others, as Porcupine
   * does; quick to find a linearization when one exists. `completed-first`: only once no completed
   * operation can go next; far quicker to prove there is none, since it rarely tries a timed-out
   * operation where it is not needed. Both are complete; only the time differs.
   * @default 'completed-first'
   */
  readonly order?: 'by-call' | 'completed-first' | undefined
  /**
   * Stop with `gave-up` after this many steps.
   * @default Infinity
   */
  readonly maxSteps?: number | undefined
}

/** A node of a doubly linked list of call and return events (the "entries" of Lowe's algorithm). */
interface EventNode {
  readonly op: number
  readonly time: number
  readonly isCall: boolean
  /** For a call: its return node, or null when the outcome is unknown (no return event). */
  readonly match: EventNode | null
  prev: EventNode | null
  next: EventNode | null
}

const POLL_EVERY = 4096

function sentinel (): EventNode {
  return { op: -1, time: Number.NEGATIVE_INFINITY, isCall: false, match: null, prev: null, next: null }
}

function link (head: EventNode, nodes: readonly EventNode[]): void {
  let tail = head
  for (const node of nodes) {
    node.prev = tail
    tail.next = node
    tail = node
  }
}

/**
 * Builds two lists: `completed`, the calls and returns of operations with a known outcome, by time;
 * and `unknown`, the calls of timed-out operations, by time. At equal times calls come first, so an
 * operation returning at the very instant another is called counts as concurrent with it (the
 * permissive reading, never a false alarm).
 */
function buildEvents<Input> (ops: ReadonlyArray<SearchOp<Input>>, separateUnknown: boolean): { completed: EventNode, unknown: EventNode } {
  const events: Array<{ time: number, isCall: boolean, op: number }> = []
  const unknownCalls: EventNode[] = []
  ops.forEach((op, index) => {
    if (op.return === null && separateUnknown) {
      unknownCalls.push({ op: index, time: op.call, isCall: true, match: null, prev: null, next: null })
      return
    }
    events.push({ time: op.call, isCall: true, op: index })
    if (op.return !== null) events.push({ time: op.return, isCall: false, op: index })
  })
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op)
  unknownCalls.sort((a, b) => a.time - b.time || a.op - b.op)

  // Build back to front so each call node can point at its (later) return node.
  const returns = new Map<number, EventNode>()
  const nodes = new Array<EventNode>(events.length)
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!
    const node: EventNode = { op: event.op, time: event.time, isCall: event.isCall, match: event.isCall ? returns.get(event.op) ?? null : null, prev: null, next: null }
    if (!event.isCall) returns.set(event.op, node)
    nodes[i] = node
  }
  const completed = sentinel()
  const unknown = sentinel()
  link(completed, nodes)
  link(unknown, unknownCalls)
  return { completed, unknown }
}

/** Removes a call (and its return) from its list: the operation is linearized. */
function lift (call: EventNode): void {
  call.prev!.next = call.next
  if (call.next !== null) call.next.prev = call.prev
  const ret = call.match
  if (ret !== null) {
    ret.prev!.next = ret.next
    if (ret.next !== null) ret.next.prev = ret.prev
  }
}

/** Undoes `lift`, in reverse order, restoring the exact links (dancing links). */
function unlift (call: EventNode): void {
  const ret = call.match
  if (ret !== null) {
    ret.prev!.next = ret
    if (ret.next !== null) ret.next.prev = ret
  }
  call.prev!.next = call
  if (call.next !== null) call.next.prev = call
}

/**
 * Decides whether one partition's operations are linearizable with respect to `model`: the
 * Wing & Gong depth-first search with Lowe's memoisation of (linearized set, state), as Porcupine
 * does it. Walking the event list from the front, any call met before the first return may be
 * linearized next; meeting a return means that operation should already have been, so backtrack.
 *
 * Operations with an unknown outcome have no return event, so they never force anything. They are
 * tried only where they change the state, in the `order` chosen, and may be left out at the end
 * ("never happened"). Leaving one out is always allowed, which is what makes the extra pruning
 * sound (see `Memo`, `twin` and `redundantInRun`).
 */
export function searchLinearization<State, Input> (
  ops: ReadonlyArray<SearchOp<Input>>,
  model: Model<State, Input>,
  options: SearchOptions
): SearchResult<State> {
  // Operations with a known outcome and those without are numbered apart, for the two memo parts.
  const slot = new Int32Array(ops.length)
  let remaining = 0
  let unknownCount = 0
  ops.forEach((op, index) => { slot[index] = op.return !== null ? remaining++ : unknownCount++ })
  if (remaining === 0) return { kind: 'linearizable', steps: 0 }
  const completedCount = remaining

  const lists = buildEvents(ops, options.order !== 'by-call')
  const head = lists.completed
  const unknownHead = lists.unknown
  const completed = new Bitset(remaining)
  const unknown = new Uint32Array(Math.ceil(unknownCount / 32))
  const isPlaced = (index: number): boolean => {
    const bit = slot[index]!
    return ops[index]!.return !== null ? completed.has(bit) : (unknown[bit >>> 5]! & (1 << (bit & 31))) !== 0
  }
  const toggle = (index: number): void => {
    const bit = slot[index]!
    if (ops[index]!.return === null) unknown[bit >>> 5]! ^= 1 << (bit & 31)
    else if (completed.has(bit)) completed.clear(bit)
    else completed.set(bit)
  }

  // Timed-out operations that act alike are used in call order: `twin[i]` is the previous one
  // (by call) with the same effect, which must be placed before operation i may be. Swapping which
  // of two such operations took effect where changes nothing, so this loses no linearization and
  // spares the search every permutation of, say, ten timed-out deletes of one key.
  const twin = new Int32Array(ops.length).fill(-1)
  const lastAlike = new Map<string, number>()
  const unknownByCall = ops.map((_, index) => index).filter((index) => ops[index]!.return === null)
  unknownByCall.sort((a, b) => ops[a]!.call - ops[b]!.call || a - b)
  for (const index of unknownByCall) {
    const alike = model.inputKey(ops[index]!.input)
    twin[index] = lastAlike.get(alike) ?? -1
    lastAlike.set(alike, index)
  }

  const memo = new Memo()
  const stack: Array<{ node: EventNode, stateBefore: State, stateAfter: State, limit: EventNode | null }> = []
  let state = model.initialState()
  let stateKey = model.stateKey(state)
  let deepest: Deepest<State> | undefined
  let steps = 0
  let unknownPlaced = 0
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY

  // A run of timed-out operations placed one after another (no completed one between) needs no
  // member whose effect, applied from an earlier state of the run, gives the same state: that
  // shorter run is explored from the earlier configuration, with fewer operations used up.
  // This collapses runs of blind writes, which would otherwise be tried in every combination.
  const redundantInRun = (input: Input, nextKey: string): boolean => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const placed = stack[i]!
      if (ops[placed.node.op]!.return !== null) return false
      const alternative = model.step(placed.stateBefore, input)
      if (alternative !== undefined && model.stateKey(alternative) === nextKey) return true
    }
    return false
  }

  /** Tries to linearize the call at `node` now; true when it was placed (and pushed). */
  const tryPlace = (node: EventNode, limit: EventNode | null): boolean => {
    const op = ops[node.op]!
    const next = model.step(state, op.input)
    if (next === undefined) return false
    const nextKey = model.stateKey(next)
    if (op.return === null) {
      if (nextKey === stateKey) return false
      const previous = twin[node.op]!
      if (previous >= 0 && !isPlaced(previous)) return false
      if (redundantInRun(op.input, nextKey)) return false
    }
    toggle(node.op)
    if (!memo.add(completed, unknown, nextKey)) {
      toggle(node.op)
      return false
    }
    stack.push({ node, stateBefore: state, stateAfter: next, limit })
    state = next
    stateKey = nextKey
    lift(node)
    if (op.return !== null) remaining--
    else unknownPlaced++
    return true
  }

  // `entry` walks the completed list (first pass) until the first return, `limit`; then
  // `unknownEntry` walks the timed-out calls not yet placed that were made before that return
  // (second pass). Placing anything restarts the first pass.
  let entry = head.next
  let limit: EventNode | null = null
  let unknownEntry: EventNode | null = null

  while (true) {
    if (++steps % POLL_EVERY === 0 && (steps > maxSteps || options.shouldStop())) return { kind: 'gave-up', steps }

    if (limit === null) {
      // While a completed op is pending its return node is still in the list, so entry is never null.
      const node = entry!
      if (node.isCall) {
        if (tryPlace(node, null)) {
          if (remaining === 0) return { kind: 'linearizable', steps }
          entry = head.next
        } else {
          entry = node.next
        }
        continue
      }
      limit = node
      unknownEntry = unknownPlaced < unknownCount ? unknownHead.next : null
      continue
    }

    const node = unknownEntry
    if (node !== null && node.time <= limit.time) {
      if (tryPlace(node, limit)) {
        entry = head.next
        limit = null
      } else {
        unknownEntry = node.next
      }
      continue
    }

    // Nothing more to try before `limit` returns: that operation had to be linearized by then.
    // The deepest dead end counts completed operations; among equals, the one that assumed the
    // fewest timed-out operations took effect is the easier to read.
    const depth = completedCount - remaining
    if (options.trackDeadEnd && (deepest === undefined || depth > deepest.depth || (depth === deepest.depth && stack.length < deepest.stack.length))) {
      // Copy only references now; the candidates are worked out once, at the end.
      deepest = { depth, stack: stack.slice(), state, blocking: limit }
    }
    const top = stack.pop()
    if (top === undefined) {
      return { kind: 'not-linearizable', steps, deadEnd: deepest === undefined ? undefined : describeDeadEnd(deepest, ops) }
    }
    state = top.stateBefore
    stateKey = model.stateKey(state)
    toggle(top.node.op)
    unlift(top.node)
    if (ops[top.node.op]!.return !== null) remaining++
    else unknownPlaced--
    // Resume the pass that placed it, just after it.
    limit = top.limit
    if (limit === null) entry = top.node.next
    else unknownEntry = top.node.next
  }
}

interface Deepest<State> {
  readonly depth: number
  readonly stack: ReadonlyArray<{ node: EventNode, stateAfter: State }>
  readonly state: State
  readonly blocking: EventNode
}

/**
 * Turns the deepest dead end into a report. The candidates are the operations not on the deepest
 * path that were called by the blocking return (ties count as concurrent, as in the event order):
 * completed ones first, then timed-out ones.
 */
function describeDeadEnd<State, Input> (deepest: Deepest<State>, ops: ReadonlyArray<SearchOp<Input>>): DeadEnd<State> {
  const linearized = new Set(deepest.stack.map(({ node }) => node.op))
  const blockingTime = deepest.blocking.time
  const candidates: number[] = []
  ops.forEach((op, index) => {
    if (!linearized.has(index) && op.call <= blockingTime) candidates.push(index)
  })
  // Completed operations first, then timed-out ones, each by call time.
  candidates.sort((a, b) => Number(ops[a]!.return === null) - Number(ops[b]!.return === null) || ops[a]!.call - ops[b]!.call || a - b)
  return {
    linearized: deepest.stack.map(({ node, stateAfter }) => ({ op: node.op, stateAfter })),
    state: deepest.state,
    blocking: deepest.blocking.op,
    candidates
  }
}
