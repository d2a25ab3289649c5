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
  /** Record the deepest dead end (for a report). Costs a copy of the stack at each new depth record. */
  readonly trackDeadEnd: boolean
  /** Polled every few thousand steps; true stops the search with `gave-up`. */
  readonly shouldStop: () => boolean
}

/** A node of the doubly linked list of call and return events (the "entries" of Lowe's algorithm). */
interface EventNode {
  readonly op: number
  readonly isCall: boolean
  /** For a call: its return node, or null when the outcome is unknown (no return event). */
  readonly match: EventNode | null
  prev: EventNode | null
  next: EventNode | null
}

const POLL_EVERY = 4096

/**
 * Orders events by time; at equal times calls come first, so an operation returning at the very
 * instant another is called counts as concurrent with it (the permissive reading, never a false alarm).
 */
function buildEvents<Input> (ops: ReadonlyArray<SearchOp<Input>>): EventNode {
  const events: Array<{ time: number, isCall: boolean, op: number }> = []
  ops.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, op: index })
    if (op.return !== null) events.push({ time: op.return, isCall: false, op: index })
  })
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op)

  const returns = new Map<number, EventNode>()
  const head: EventNode = { op: -1, isCall: false, match: null, prev: null, next: null }
  let tail = head
  // Build back to front so each call node can point at its (later) return node.
  const nodes: EventNode[] = new Array<EventNode>(events.length)
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!
    const node: EventNode = { op: event.op, isCall: event.isCall, match: event.isCall ? returns.get(event.op) ?? null : null, prev: null, next: null }
    if (!event.isCall) returns.set(event.op, node)
    nodes[i] = node
  }
  for (const node of nodes) {
    node.prev = tail
    tail.next = node
    tail = node
  }
  return head
}

/** Removes a call (and its return) from the list: the operation is linearized. */
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
 * Operations with an unknown outcome have no return event, so they never force anything: they are
 * linearized only where that changes the state, and may be left out at the end ("never happened").
 * Leaving one out is always allowed, so placing one where it changes nothing is never needed.
 */
export function searchLinearization<State, Input> (
  ops: ReadonlyArray<SearchOp<Input>>,
  model: Model<State, Input>,
  options: SearchOptions
): SearchResult<State> {
  let remaining = 0
  for (const op of ops) if (op.return !== null) remaining++
  if (remaining === 0) return { kind: 'linearizable', steps: 0 }

  const head = buildEvents(ops)
  const linearized = new Bitset(ops.length)
  const memo = new Memo()
  const stack: Array<{ node: EventNode, stateBefore: State, stateAfter: State }> = []
  let state = model.initialState()
  let stateKey = model.stateKey(state)
  let deadEnd: DeadEnd<State> | undefined
  let steps = 0
  let entry = head.next

  while (true) {
    if (++steps % POLL_EVERY === 0 && options.shouldStop()) return { kind: 'gave-up', steps }
    // While a determinate op is pending its return node is still in the list, so entry is never null.
    const node = entry!
    if (node.isCall) {
      const op = ops[node.op]!
      const next = model.step(state, op.input)
      if (next !== undefined) {
        const nextKey = model.stateKey(next)
        if (op.return !== null || nextKey !== stateKey) {
          linearized.set(node.op)
          if (memo.add(linearized, nextKey)) {
            stack.push({ node, stateBefore: state, stateAfter: next })
            state = next
            stateKey = nextKey
            lift(node)
            if (op.return !== null && --remaining === 0) return { kind: 'linearizable', steps }
            entry = head.next
            continue
          }
          linearized.clear(node.op)
        }
      }
      entry = node.next
      continue
    }

    // A return: that operation had to be linearized before this point. Dead end; backtrack.
    if (options.trackDeadEnd && (deadEnd === undefined || stack.length > deadEnd.linearized.length)) {
      deadEnd = captureDeadEnd(head, node, stack, state)
    }
    const top = stack.pop()
    if (top === undefined) return { kind: 'not-linearizable', steps, deadEnd }
    state = top.stateBefore
    stateKey = model.stateKey(state)
    linearized.clear(top.node.op)
    unlift(top.node)
    if (ops[top.node.op]!.return !== null) remaining++
    entry = top.node.next
  }
}

function captureDeadEnd<State> (
  head: EventNode,
  blocking: EventNode,
  stack: ReadonlyArray<{ node: EventNode, stateAfter: State }>,
  state: State
): DeadEnd<State> {
  const candidates: number[] = []
  for (let node = head.next; node !== null && node !== blocking; node = node.next) {
    if (node.isCall) candidates.push(node.op)
  }
  return {
    linearized: stack.map(({ node, stateAfter }) => ({ op: node.op, stateAfter })),
    state,
    blocking: blocking.op,
    candidates
  }
}
