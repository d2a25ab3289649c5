import type { ClusterConfig, NodeId } from '@synod/interfaces'
import { createPaxosCore } from '../../src/core/index.js'
import type { Ballot, PaxosCore, PaxosCoreConfig, PaxosMessage, PaxosReady } from '../../src/core/index.js'

export function config3 (ids: NodeId[] = ['n1', 'n2', 'n3']): ClusterConfig {
  return { voters: ids, learners: [], addresses: Object.fromEntries(ids.map((id) => [id, id])) }
}

/** A lone core to drive by hand with crafted messages. */
export function soloCore (id: NodeId, extra: Partial<PaxosCoreConfig> = {}): PaxosCore {
  // The longest election timeout (2T - 1), so a test can let a leader go quiet for T ticks without this core campaigning.
  return createPaxosCore({ id, random: { next: () => 0.999, int: (n) => n - 1 }, snapshot: { index: 0, term: 0, config: config3() }, ...extra })
}

/** Lets an election timeout pass without hearing from the leader (the stable-leader guard lapses). */
export function quiet (core: PaxosCore, ticks = 10): void {
  for (let i = 0; i < ticks; i++) core.tick()
}

/** Persists and acknowledges everything pending; returns what it would send, and the Ready. */
export function drain (core: PaxosCore): { messages: PaxosMessage[], readies: PaxosReady[] } {
  const messages: PaxosMessage[] = []
  const readies: PaxosReady[] = []
  while (core.hasReady()) {
    const rd = core.ready()
    readies.push(rd)
    messages.push(...rd.earlyMessages, ...rd.messages)
    core.advance(rd)
  }
  return { messages, readies }
}

export const b = (round: number, node: NodeId): Ballot => ({ round, node })
export const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)
export const str = (value: Uint8Array): string => new TextDecoder().decode(value)

export function ofType<T extends PaxosMessage['type']> (messages: PaxosMessage[], type: T): Array<Extract<PaxosMessage, { type: T }>> {
  return messages.filter((m): m is Extract<PaxosMessage, { type: T }> => m.type === type)
}
