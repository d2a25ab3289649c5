import { InvalidArgumentError } from '@synod/interfaces'
import type { NodeId } from '@synod/interfaces'
import type { ResolvedRingNode, RingNode, RingNodeState } from '../types.js'

/** Validates and resolves a node given as a `RingNode` or a bare id. */
export function resolveNode (node: RingNode | NodeId): ResolvedRingNode {
  const input: RingNode = typeof node === 'string' ? { id: node } : node
  if (typeof input.id !== 'string' || input.id.length === 0) {
    throw new InvalidArgumentError('node id must be a non-empty string', { field: 'id' })
  }
  const weight = input.weight ?? 1
  checkWeight(weight)
  if (input.zone !== undefined && typeof input.zone !== 'string') {
    throw new InvalidArgumentError('zone must be a string', { field: 'zone' })
  }
  return Object.freeze(input.zone === undefined ? { id: input.id, weight } : { id: input.id, weight, zone: input.zone })
}

/** Throws unless `weight` is a finite number above 0. */
export function checkWeight (weight: number): void {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new InvalidArgumentError(`weight must be a finite number above 0, got ${String(weight)}`, { field: 'weight' })
  }
}

/** The canonical serialised shape of a node: keys always in the order id, weight, zone. */
export function nodeState (node: ResolvedRingNode): RingNodeState {
  return node.zone === undefined ? { id: node.id, weight: node.weight } : { id: node.id, weight: node.weight, zone: node.zone }
}

/** Code-unit order of ids: the same in every JavaScript engine and locale. */
export function compareIds (a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0
}
