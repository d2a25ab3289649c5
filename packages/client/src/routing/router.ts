import { createBalancer, type Balancer, type Outcome, type PickHandle, type PolicyName } from '@synod/balancer'
import type { Clock, Random, ReplicatedLogStatus } from '@synod/interfaces'

/** A chosen endpoint and how to report the attempt's outcome to the balancer. */
export interface Route {
  endpoint: string
  complete(outcome: Outcome): void
}

/**
 * Chooses the node for each attempt. Reads go where the balancer's policy says; writes go to the
 * leader once known (any node would forward them, at the cost of an extra hop), else where the
 * balancer says. The leader is learned from `ERR_NOT_LEADER` hints and from status answers; node
 * ids are mapped to endpoints from the status each node gives when a connection opens.
 */
export class Router {
  readonly #balancer: Balancer
  readonly #endpoints = new Set<string>()
  readonly #endpointOfNode = new Map<string, string>()
  #leader: string | undefined

  constructor (endpoints: string[], policy: PolicyName, clock: Clock, random: Random) {
    for (const endpoint of endpoints) this.#endpoints.add(endpoint)
    this.#balancer = createBalancer({
      policy,
      endpoints: [...this.#endpoints].map((id) => ({ id, address: id })),
      // Cluster nodes are few: never skip one for long because it restarted.
      outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 10_000 }
    }, { clock, random })
  }

  get leader (): string | undefined { return this.#leader }

  /** The endpoint for one attempt. `exclude` holds endpoints that failed this call. */
  route (kind: 'read' | 'write', exclude: ReadonlySet<string>, preferred?: string): Route {
    const target = preferred ?? (kind === 'write' ? this.#leader : undefined)
    if (target !== undefined && !exclude.has(target)) return { endpoint: target, complete: () => {} }
    const handle: PickHandle = this.#balancer.pick({ exclude })
    return { endpoint: handle.endpoint.id, complete: (outcome) => { handle.complete(outcome) } }
  }

  /**
   * A balancer pick among `candidates` (a shard's replicas) that avoids `exclude`; any endpoint
   * when none of them is left.
   */
  routeAmong (candidates: readonly string[], exclude: ReadonlySet<string>): Route {
    const avoid = new Set(exclude)
    const allowed = new Set(candidates)
    for (const endpoint of this.#endpoints) if (!allowed.has(endpoint)) avoid.add(endpoint)
    // The balancer ignores an exclusion that leaves nothing; then fall back to avoiding `exclude` only.
    const handle = candidates.some((endpoint) => this.#endpoints.has(endpoint) && !exclude.has(endpoint))
      ? this.#balancer.pick({ exclude: avoid })
      : this.#balancer.pick({ exclude })
    return { endpoint: handle.endpoint.id, complete: (outcome) => { handle.complete(outcome) } }
  }

  /** Follows an `ERR_NOT_LEADER` answer; returns the endpoint to try next, if the hint names one. */
  followHint (from: string, hint: { leaderHint?: unknown, leaderUrl?: unknown }): string | undefined {
    let next: string | undefined
    if (typeof hint.leaderUrl === 'string' && hint.leaderUrl.length > 0) {
      next = hint.leaderUrl
      this.#addEndpoint(next)
      if (typeof hint.leaderHint === 'string') this.#endpointOfNode.set(hint.leaderHint, next)
    } else if (typeof hint.leaderHint === 'string') {
      next = this.#endpointOfNode.get(hint.leaderHint)
    }
    this.#leader = next === from ? undefined : next
    return this.#leader
  }

  /** Records what a node said about itself and the leader. */
  learn (endpoint: string, status: ReplicatedLogStatus): void {
    if (typeof status.id !== 'string') return
    this.#endpointOfNode.set(status.id, endpoint)
    if (status.role === 'leader') this.#leader = endpoint
    else if (status.leader !== undefined) this.#leader = this.#endpointOfNode.get(status.leader) ?? this.#leader
  }

  /** The endpoint stopped answering: do not route writes there until it is learned again. */
  unreachable (endpoint: string): void {
    if (this.#leader === endpoint) this.#leader = undefined
  }

  /** The endpoint a node id announced or was learned under, if known. */
  endpointOf (nodeId: string): string | undefined {
    return this.#endpointOfNode.get(nodeId)
  }

  /** Learns a node (from a shard map or a redirect): its id maps to `endpoint`, which reads may use. */
  learnNode (nodeId: string, endpoint: string): void {
    this.#endpointOfNode.set(nodeId, endpoint)
    this.#addEndpoint(endpoint)
  }

  /** Stops routing to an endpoint (a node that left the cluster). */
  removeEndpoint (endpoint: string): void {
    if (!this.#endpoints.delete(endpoint)) return
    this.#balancer.remove(endpoint)
    for (const [nodeId, known] of this.#endpointOfNode) if (known === endpoint) this.#endpointOfNode.delete(nodeId)
    if (this.#leader === endpoint) this.#leader = undefined
  }

  /** Makes an endpoint available to reads (a node learned from the cluster). */
  addEndpoint (endpoint: string): void {
    this.#addEndpoint(endpoint)
  }

  #addEndpoint (endpoint: string): void {
    if (this.#endpoints.has(endpoint)) return
    this.#endpoints.add(endpoint)
    this.#balancer.add({ id: endpoint, address: endpoint })
  }
}
