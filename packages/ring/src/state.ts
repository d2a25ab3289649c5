import { InvalidArgumentError } from '@synod/interfaces'
import { createJumpRing } from './algorithms/jump.js'
import { createMaglevRing } from './algorithms/maglev.js'
import { createRendezvousRing } from './algorithms/rendezvous.js'
import { createKetamaRing, createVnodeRing } from './algorithms/vnode.js'
import { murmur3 } from './hash/murmur3.js'
import type { Ring, RingNodeState, RingState } from './types.js'

/** Rebuilds a ring from {@link Ring.toJSON} output (or its parsed JSON). Validates the shape. */
export function createRing (state: RingState): Ring {
  if (typeof state !== 'object' || state === null) throw new InvalidArgumentError('ring state must be an object')
  if (state.format !== 1) throw new InvalidArgumentError(`unsupported ring state format ${String((state as { format?: unknown }).format)}`, { field: 'format' })
  if (!Array.isArray(state.nodes)) throw new InvalidArgumentError('ring state nodes must be an array', { field: 'nodes' })
  const nodes = state.nodes.map(checkNodeState)
  switch (state.algorithm) {
    case 'vnode': return createVnodeRing({ nodes, vnodes: state.vnodes })
    case 'ketama': return createKetamaRing({ nodes, vnodes: state.vnodes, replicas: state.replicas })
    case 'jump': return createJumpRing({ nodes })
    case 'rendezvous': return createRendezvousRing({ nodes })
    case 'maglev': return createMaglevRing({ nodes, tableSize: state.tableSize })
    default: throw new InvalidArgumentError(`unknown ring algorithm ${String((state as { algorithm?: unknown }).algorithm)}`, { field: 'algorithm' })
  }
}

function checkNodeState (node: RingNodeState): RingNodeState {
  if (typeof node !== 'object' || node === null) throw new InvalidArgumentError('ring state node must be an object', { field: 'nodes' })
  return node
}

/**
 * The ring's state as canonical JSON: the same state always gives the same string, byte for
 * byte, in every process and version of this format. Store it, ship it, compare it.
 */
export function serializeRing (ring: Ring): string {
  return JSON.stringify(ring.toJSON())
}

/** Parses {@link serializeRing} output back into a ring. Throws `ERR_INVALID_ARGUMENT` on bad input. */
export function parseRing (text: string): Ring {
  let state: unknown
  try {
    state = JSON.parse(text)
  } catch (err) {
    throw new InvalidArgumentError(`ring state is not JSON: ${(err as Error).message}`)
  }
  return createRing(state as RingState)
}

/**
 * A short fingerprint of the ring's state (MurmurHash3 of the canonical JSON, 8 hex digits):
 * processes that exchange it can cheaply check they route identically.
 */
export function ringFingerprint (ring: Ring): string {
  return murmur3(serializeRing(ring)).toString(16).padStart(8, '0')
}
