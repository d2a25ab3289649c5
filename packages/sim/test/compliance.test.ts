import { describe } from 'vitest'
import type { HardState, HardStateStorage, LogStorage } from '@synod/interfaces'
import { hardStateStorageSuite } from '@synod/compliance/hard-state-storage'
import { logStorageSuite } from '@synod/compliance/log-storage'
import { snapshotStorageSuite } from '@synod/compliance/snapshot-storage'
import { transportSuite, type TransportTestNetwork } from '@synod/compliance/transport'
import { createMemoryNetwork, createSimDisk, createSimNetwork, createSimulation, runInBackground, uniform } from '../src/index.js'

/** Storage under test plus the driver that runs its simulation while the suite awaits it. */
const stoppers = new WeakMap<object, () => Promise<void>>()

function simulatedStore<T extends object> (open: (disk: ReturnType<typeof createSimDisk>) => T): () => Promise<T> {
  return async () => {
    const sim = createSimulation({ seed: 1 })
    const store = open(createSimDisk(sim, { name: 'compliance', syncLatency: uniform(0.1, 1) }))
    stoppers.set(store, runInBackground(sim))
    return store
  }
}

async function release (store: { stop(): Promise<void> }): Promise<void> {
  await store.stop()
  await stoppers.get(store)?.()
}

describe('simulated disk', () => {
  logStorageSuite({
    setup: simulatedStore<LogStorage>((disk) => disk.log()),
    teardown: release,
    capabilities: { restart: true }
  })

  hardStateStorageSuite({
    setup: simulatedStore<HardStateStorage<HardState>>((disk) => disk.hardState()),
    teardown: release,
    capabilities: { restart: true }
  })

  snapshotStorageSuite({
    setup: simulatedStore((disk) => disk.snapshots()),
    teardown: release,
    capabilities: { restart: true }
  })
})

describe('simulated network', () => {
  transportSuite({
    setup: async (): Promise<TransportTestNetwork> => {
      const sim = createSimulation({ seed: 1 })
      const net = createSimNetwork(sim, { latency: uniform(0.5, 5), traceMessages: false })
      return {
        createNode: async (id) => ({ id, transport: net.endpoint(id), address: () => `sim://${id}` }),
        advance: async () => { await sim.runUntilQuiet() }
      }
    },
    teardown: async () => {},
    // No wire a stranger can write to, no bounded queues and a single lane: those are claims of a
    // real transport, not of a simulated link.
    capabilities: { events: true, restart: true, boundedQueue: false, rawInput: false, bulkPriority: false }
  })
})

describe('simulated network with finite bandwidth (bulk lane)', () => {
  transportSuite({
    setup: async (): Promise<TransportTestNetwork> => {
      const sim = createSimulation({ seed: 2 })
      const net = createSimNetwork(sim, { latency: uniform(0.5, 5), bandwidth: 10_000, traceMessages: false })
      return {
        createNode: async (id) => ({ id, transport: net.endpoint(id), address: () => `sim://${id}` }),
        advance: async () => { await sim.runUntilQuiet() }
      }
    },
    teardown: async () => {},
    capabilities: { events: true, restart: true, boundedQueue: false, rawInput: false, bulkPriority: true }
  })
})

describe('memory network', () => {
  for (const delivery of ['microtask', 'macrotask'] as const) {
    describe(delivery, () => {
      transportSuite({
        setup: async (): Promise<TransportTestNetwork> => {
          const network = createMemoryNetwork({ delivery })
          return { createNode: async (id) => ({ id, transport: network.endpoint(id), address: () => `memory://${id}` }) }
        },
        teardown: async () => {},
        capabilities: { events: true, restart: true, boundedQueue: false, rawInput: false, bulkPriority: false }
      })
    })
  }
})
