import type { EntryType, LogEntry, NodeId } from '@synod/interfaces'

/**
 * A Paxos ballot: a round number made unique by the proposer's node id (Paxos Made Simple §2.2:
 * "different proposers choose their numbers from disjoint sets"). Ordered by round, then node id.
 */
export interface Ballot {
  round: number
  node: NodeId
}

/** The ballot below every real one: no promise made, nothing accepted. */
export const ZERO_BALLOT: Ballot = Object.freeze({ round: 0, node: '' })

export function compareBallots (a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1
  if (a.node === b.node) return 0
  return a.node < b.node ? -1 : 1
}

export function sameBallot (a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.node === b.node
}

export function maxBallot (a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b
}

export function formatBallot (b: Ballot): string {
  return `${b.round}.${b.node}`
}

/** One slot's accepted value as an acceptor holds it in memory. */
export interface AcceptedValue {
  ballot: Ballot
  type: EntryType
  /** The value itself. */
  data: Uint8Array
  /** The slot as stored (envelope included), once encoded: accepts carry it and acceptors store it as received. */
  stored?: LogEntry | undefined
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Slots are stored in a `LogStorage` with `index = slot` and `term = ballot round`. The round
 * alone does not order ballots (two proposers may use the same round), so the ballot's node id is
 * kept in front of the value: `[idLength u16][id utf-8][value]`. Rewriting a slot with a higher
 * ballot rewrites this envelope.
 */
/** Encoded node ids: a cluster has a handful, and encoding one per stored slot is measurable. */
const encodedIds = new Map<string, Uint8Array>()

function encodeId (node: string): Uint8Array {
  let id = encodedIds.get(node)
  if (id === undefined) {
    id = encoder.encode(node)
    if (encodedIds.size > 1024) encodedIds.clear()
    encodedIds.set(node, id)
  }
  return id
}

/**
 * Encodes a run of slots into one shared buffer: one allocation per Ready instead of one per slot
 * (allocating many small typed arrays costs more than everything else the core does).
 */
export function encodeSlots (first: number, values: readonly AcceptedValue[]): LogEntry[] {
  let size = 0
  const ids: Uint8Array[] = []
  for (const value of values) {
    const id = encodeId(value.ballot.node)
    ids.push(id)
    if (value.stored === undefined) size += 2 + id.byteLength + value.data.byteLength
  }
  const slab = new Uint8Array(size)
  const out: LogEntry[] = []
  let offset = 0
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!
    if (value.stored !== undefined) {
      out.push(value.stored)
      continue
    }
    const id = ids[i]!
    const start = offset
    slab[offset++] = id.byteLength >>> 8
    slab[offset++] = id.byteLength & 0xff
    slab.set(id, offset)
    offset += id.byteLength
    slab.set(value.data, offset)
    offset += value.data.byteLength
    value.stored = { index: first + i, term: value.ballot.round, type: value.type, data: slab.subarray(start, offset) }
    out.push(value.stored)
  }
  return out
}

export function encodeSlot (slot: number, value: AcceptedValue): LogEntry {
  const id = encodeId(value.ballot.node)
  const data = new Uint8Array(2 + id.byteLength + value.data.byteLength)
  data[0] = id.byteLength >>> 8
  data[1] = id.byteLength & 0xff
  data.set(id, 2)
  data.set(value.data, 2 + id.byteLength)
  return { index: slot, term: value.ballot.round, type: value.type, data }
}

/** Reverses `encodeSlot`; throws on an envelope too short to be one (a corrupt log). */
export function decodeSlot (entry: LogEntry): AcceptedValue {
  const length = ((entry.data[0] ?? 0) << 8) | (entry.data[1] ?? 0)
  if (entry.data.byteLength < 2 + length) throw new RangeError(`slot ${entry.index}: truncated ballot envelope`)
  const node = decoder.decode(entry.data.subarray(2, 2 + length))
  return { ballot: { round: entry.term, node }, type: entry.type, data: entry.data.subarray(2 + length), stored: entry }
}

/**
 * An encoded slot received in an accept at `ballot`, kept as it arrived when its envelope names
 * that ballot's node (the usual case); re-encoded otherwise (a chosen slot re-sent from an older ballot).
 */
export function acceptedFromWire (slot: number, ballot: Ballot, type: EntryType, envelope: Uint8Array): AcceptedValue {
  const length = ((envelope[0] ?? 0) << 8) | (envelope[1] ?? 0)
  if (envelope.byteLength < 2 + length) throw new RangeError(`slot ${slot}: truncated ballot envelope`)
  const data = envelope.subarray(2 + length)
  const id = encodeId(ballot.node)
  let same = id.byteLength === length
  for (let i = 0; same && i < length; i++) same = envelope[2 + i] === id[i]
  const value: AcceptedValue = { ballot, type, data }
  if (same) value.stored = { index: slot, term: ballot.round, type, data: envelope }
  return value
}
