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

/** One slot's accepted value, decoded: its ballot, its kind and the bare value. */
export interface AcceptedValue {
  ballot: Ballot
  type: EntryType
  /** The value itself. */
  data: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Slots are stored in a `LogStorage` with `index = slot` and `term = ballot round`. The round
 * alone does not order ballots (two proposers may use the same round), so the ballot's node id is
 * kept in front of the value: `[idLength u16][id utf-8][value]`. Rewriting a slot with a higher
 * ballot rewrites this envelope.
 *
 * The core holds its slots in exactly this stored form, one `LogEntry` per slot: the same object
 * is written to storage, carried in accepts, and kept by the acceptors that receive it (on an
 * in-process transport, every replica shares it). Ballots and values are read out of the
 * envelope when needed rather than kept beside it: per-slot objects that live until compaction
 * are what a garbage collector pays for most.
 */
/** Encoded node ids: a cluster has a handful, and encoding one per stored slot is measurable. */
const encodedIds = new Map<string, Uint8Array>()
/** The first `2 + id length` bytes of every slot stored at a ballot of that node, as plain numbers. */
const envelopeHeads = new Map<string, number[]>()

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
 * The envelope prefix of every slot stored at `ballot` (length and node id bytes, in a plain
 * array: comparing against it reads no typed-array getters): compute it once per message.
 */
export function ballotEnvelope (ballot: Ballot): readonly number[] {
  let head = envelopeHeads.get(ballot.node)
  if (head === undefined) {
    const id = encodeId(ballot.node)
    head = [id.byteLength >>> 8, id.byteLength & 0xff, ...id]
    if (envelopeHeads.size > 1024) envelopeHeads.clear()
    envelopeHeads.set(ballot.node, head)
  }
  return head
}

/**
 * A stored slot may carry its applied form: the entry handed to the state machine, with the bare
 * value. The slot that encodes a value builds it once from the value it was given (no view into
 * the envelope to allocate), and every holder of that same slot object applies it from there. A
 * symbol key is invisible to storage (which keeps index, term, type and data) and to anything
 * that encodes a message for a wire (own string keys only): a slot decoded from the wire or read
 * back from storage has none, and its applied form is built from its bytes (`appliedForm`).
 */
const APPLIED: unique symbol = Symbol('synod.paxos.applied')

/** A stored slot as the core holds it: `LogEntry` plus, when it was encoded here, its applied form. */
export interface StoredSlot extends LogEntry {
  readonly [APPLIED]?: LogEntry
}

function envelopeLength (entry: LogEntry): number {
  const data = entry.data
  const length = ((data[0] ?? 0) << 8) | (data[1] ?? 0)
  if (data.byteLength < 2 + length) throw new RangeError(`slot ${entry.index}: truncated ballot envelope`)
  return length
}

/**
 * Encodes values at one ballot into stored slots `first, first + 1, ..` sharing one buffer: one
 * allocation per batch instead of one per slot.
 */
export function encodeRun (first: number, ballot: Ballot, types: EntryType | readonly EntryType[], values: readonly Uint8Array[], count = values.length, into: StoredSlot[] = []): StoredSlot[] {
  const id = encodeId(ballot.node)
  const idLength = id.byteLength
  let size = 0
  for (let i = 0; i < count; i++) size += 2 + idLength + values[i]!.byteLength
  const slab = reserve(size)
  const buffer = slab.buffer
  const round = ballot.round
  let offset = slab.byteOffset
  const end = offset + size
  for (let i = 0; i < count; i++) {
    const value = values[i]!
    const start = offset
    arenaBytes[offset++] = idLength >>> 8
    arenaBytes[offset++] = idLength & 0xff
    // Node ids are a few bytes: a loop beats a call to set().
    for (let j = 0; j < idLength; j++) arenaBytes[offset++] = id[j]!
    arenaBytes.set(value, offset)
    offset += value.byteLength
    // A view built from the buffer: cheaper than subarray(), which goes through the species constructor.
    const type = typeof types === 'string' ? types : types[i]!
    const index = first + i
    into.push({ index, term: round, type, data: new Uint8Array(buffer, start, offset - start), [APPLIED]: { index, term: round, type, data: value } })
  }
  if (offset !== end) throw new RangeError('slot encoding overran its reservation')
  return into
}

/**
 * Encoded slots are carved out of shared arenas rather than one buffer per batch: a busy leader
 * encodes hundreds of batches a second, and many mid-sized buffers make the garbage collector run
 * far more often than a few large ones. Bytes once written are never changed; an arena is freed
 * when no slot refers to it any more.
 */
const ARENA_BYTES = 1024 * 1024
let arenaBytes = new Uint8Array(0)
let arenaUsed = 0

function reserve (size: number): Uint8Array {
  if (arenaUsed + size > arenaBytes.byteLength) {
    arenaBytes = new Uint8Array(Math.max(ARENA_BYTES, size))
    arenaUsed = 0
  }
  const slab = new Uint8Array(arenaBytes.buffer, arenaUsed, size)
  arenaUsed += size
  return slab
}

/** Encodes decoded values, each with its own ballot, into stored slots `first, first + 1, ..`. */
export function encodeSlots (first: number, values: readonly AcceptedValue[]): StoredSlot[] {
  return values.map((value, i) => encodeSlot(first + i, value))
}

export function encodeSlot (slot: number, value: AcceptedValue): StoredSlot {
  return encodeRun(slot, value.ballot, value.type, [value.data])[0]!
}

/** Reverses `encodeSlot`; throws on an envelope too short to be one (a corrupt log). */
export function decodeSlot (entry: LogEntry): AcceptedValue {
  return { ballot: storedBallot(entry), type: entry.type, data: storedValue(entry) }
}

/** The ballot a stored slot was accepted at (decodes the node id: not for hot paths). */
export function storedBallot (entry: LogEntry): Ballot {
  const length = envelopeLength(entry)
  return { round: entry.term, node: decoder.decode(entry.data.subarray(2, 2 + length)) }
}

/** The bare value of a stored slot: the value it was encoded from, else a view past its envelope (no copy). */
export function storedValue (entry: StoredSlot): Uint8Array {
  const applied = entry[APPLIED]
  if (applied !== undefined) return applied.data
  const data = entry.data
  const skip = 2 + envelopeLength(entry)
  return new Uint8Array(data.buffer, data.byteOffset + skip, data.byteLength - skip)
}

/** The entry to hand to the state machine for a stored slot: its bare value at its slot and round. */
export function appliedForm (entry: StoredSlot): LogEntry {
  return entry[APPLIED] ?? { index: entry.index, term: entry.term, type: entry.type, data: storedValue(entry) }
}

/** True when the stored slot holds a value accepted at `ballot`; `head` is `ballotEnvelope(ballot)`. */
export function storedAt (entry: LogEntry, ballot: Ballot, head: readonly number[]): boolean {
  if (entry.term !== ballot.round) return false
  // Past the end of a short (truncated) envelope, data[i] is undefined and the comparison fails.
  const data = entry.data
  for (let i = 0; i < head.length; i++) if (data[i] !== head[i]) return false
  return true
}

/**
 * A slot received in an accept at `ballot`: kept as it arrived (the very entry object) when it is
 * stored at that ballot, the usual case; re-encoded at `ballot` otherwise (a chosen slot re-sent
 * from an older ballot). Throws on a truncated envelope.
 */
export function storedFromWire (entry: StoredSlot, ballot: Ballot, head: readonly number[]): StoredSlot {
  if (storedAt(entry, ballot, head)) return entry
  return encodeRun(entry.index, ballot, entry.type, [storedValue(entry)])[0]!
}
