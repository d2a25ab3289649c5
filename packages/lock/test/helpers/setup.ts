import type { Clock, NodeId } from '@synod/interfaces'
import { createLockClient, createLockService, createLockStateMachine } from '../../src/index.js'
import type { LockClient, LockClientOptions, LockServer, LockService, LockStateMachine } from '../../src/index.js'
import { createMemoryCluster } from '../../src/testing.js'
import type { MemoryCluster } from '../../src/testing.js'
import { VirtualClock } from './virtual-clock.js'

export interface TestCluster {
  clock: VirtualClock
  cluster: MemoryCluster<LockStateMachine>
  service(id: NodeId): LockService
  machine(id: NodeId): LockStateMachine
  /** Stable handles on each node's service, surviving restarts; what clients are given. */
  servers: LockServer[]
  client(options?: LockClientOptions, clock?: Clock, servers?: LockServer[]): LockClient
  /** Restarts a node's replica from its last snapshot and gives it a new service. */
  restart(id: NodeId): Promise<void>
  stop(): Promise<void>
}

export interface TestClusterOptions {
  nodes?: NodeId[]
  commitDelayMs?: number
  sweepIntervalMs?: number
  /** Per-node clocks (for clock jumps); default the shared virtual clock. */
  nodeClocks?: Partial<Record<NodeId, Clock>>
  clock?: VirtualClock
}

export async function testCluster (options: TestClusterOptions = {}): Promise<TestCluster> {
  const clock = options.clock ?? new VirtualClock()
  const nodes = options.nodes ?? ['n1', 'n2', 'n3']
  const cluster = createMemoryCluster({
    nodes,
    clock,
    commitDelayMs: options.commitDelayMs ?? 0,
    machine: () => createLockStateMachine({ minTtlMs: 10 })
  })
  const services = new Map<NodeId, LockService>()
  const makeService = async (id: NodeId): Promise<void> => {
    const service = createLockService({
      log: cluster.log(id),
      machine: cluster.machine(id),
      clock: options.nodeClocks?.[id] ?? clock
    }, { sweepIntervalMs: options.sweepIntervalMs ?? 20, proposeTimeoutMs: 200 })
    await service.start()
    services.set(id, service)
  }
  for (const id of nodes) {
    await cluster.log(id).start()
    await makeService(id)
  }
  const service = (id: NodeId): LockService => services.get(id) as LockService
  const servers: LockServer[] = nodes.map((id) => ({
    id,
    execute: async (request, opts) => await service(id).execute(request, opts),
    awaitGrant: async (wait, opts) => await service(id).awaitGrant(wait, opts)
  }))
  const clients: LockClient[] = []
  return {
    clock,
    cluster,
    service,
    machine: (id) => cluster.machine(id),
    servers,
    client (clientOptions = {}, clientClock = clock, clientServers = servers) {
      const client = createLockClient({ servers: clientServers, clock: clientClock }, { ttlMs: 1000, requestTimeoutMs: 200, retryDelayMs: 20, ...clientOptions })
      clients.push(client)
      return client
    },
    async restart (id) {
      await service(id).stop()
      await cluster.restart(id)
      await makeService(id)
    },
    async stop () {
      for (const client of clients) {
        const stopping = client.stop()
        await clock.advance(1000)
        await stopping
      }
      for (const id of nodes) {
        await service(id).stop()
        await cluster.log(id).stop()
      }
    }
  }
}
