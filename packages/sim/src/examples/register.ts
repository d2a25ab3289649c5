import { InvalidArgumentError, type NodeId } from '@synod/interfaces'
import { createSimCluster, type SimCluster } from '../cluster/sim-cluster.js'
import type { SimNodeContext } from '../cluster/sim-node.js'
import { createNemesis } from '../nemesis/nemesis.js'
import { uniform } from '../random/distributions.js'
import { defineWorkload, type Workload, type WorkloadContext, type WorkloadStats } from '../workload/workload.js'

/**
 * A toy register replicated without consensus, to show how a workload is built (and to test the
 * simulator end to end). Each write gets a version (counter, writer id); a replica adopts any
 * higher version it hears of and persists it. That is last-writer-wins, not linearizable, and the
 * check is only convergence: after the faults stop, every replica holds the same value, and no
 * acknowledged write was lost (the final version is at least every acknowledged one).
 */

interface Version { counter: number, writer: NodeId, value: number }
type Message = { type: 'set', version: Version }

const zero: Version = { counter: 0, writer: '', value: 0 }

function newer (a: Version, b: Version): boolean {
  return a.counter > b.counter || (a.counter === b.counter && a.writer > b.writer)
}

interface Replica {
  current(): Version
  /** Resolves once the write is durable on this replica (the acknowledgement). */
  write(value: number): Promise<Version>
}

function bootReplica (antiEntropy: boolean) {
  return async (context: SimNodeContext<Message>): Promise<Replica> => {
    const storage = context.disk.hardState<Version>('register')
    await storage.start()
    let current = (await storage.load()) ?? zero
    const transport = context.transport
    const broadcast = (): void => {
      for (const peer of transport.peers()) transport.send(peer, { type: 'set', version: current })
    }
    transport.onMessage((_from, message) => {
      if (!newer(message.version, current)) return
      current = message.version
      void storage.save(current)
    })
    await transport.start()
    if (antiEntropy) {
      // Repeating the current value repairs lost messages and replicas that crashed.
      const gossip = (): void => {
        broadcast()
        context.clock.setTimeout(gossip, 100)
      }
      context.clock.setTimeout(gossip, context.random.int(100))
    }
    return {
      current: () => current,
      async write (value) {
        current = { counter: current.counter + 1, writer: context.id, value }
        const written = current
        await storage.save(written)
        broadcast()
        return written
      }
    }
  }
}

async function runRegister (context: WorkloadContext, antiEntropy: boolean): Promise<WorkloadStats> {
  const { sim, duration } = context
  const nodes = Number(context.settings.nodes ?? 3)
  const loss = Number(context.settings.loss ?? 0.05)
  if (!Number.isInteger(nodes) || nodes < 1) throw new InvalidArgumentError(`setting nodes must be a positive integer, got ${context.settings.nodes}`, { field: 'nodes' })
  if (!(loss >= 0 && loss <= 1)) throw new InvalidArgumentError(`setting loss must be in [0, 1], got ${context.settings.loss}`, { field: 'loss' })
  const cluster: SimCluster<Replica, Message> = createSimCluster(sim, {
    nodes: Array.from({ length: nodes }, (_, i) => `n${i + 1}`),
    network: { latency: uniform(1, 20), loss },
    boot: bootReplica(antiEntropy)
  })
  void cluster.startAll()
  const nemesis = createNemesis(cluster, { interval: uniform(200, 1500), duration: uniform(200, 2000) })
  const faultsEnd = duration * 0.8
  nemesis.start({ until: faultsEnd })

  const clients = sim.random.fork('clients')
  let acked = zero
  let writes = 0
  let acks = 0
  const write = (): void => {
    if (sim.now() >= faultsEnd) return
    const up = cluster.running().filter((node) => node.app !== undefined)
    if (up.length > 0) {
      const node = clients.pick(up)
      const value = clients.int(1000)
      writes++
      sim.log('client', `write ${value} to ${node.id}`)
      // A write to a node that crashes never completes; the client does not wait for it.
      void (node.app as Replica).write(value).then((version) => {
        acks++
        if (newer(version, acked)) acked = version
      })
    }
    sim.clock.setTimeout(write, clients.floatBetween(20, 100))
  }
  sim.clock.setTimeout(write, 10)

  await sim.runUntilTime(faultsEnd)
  nemesis.stop()
  await sim.runUntilTime(duration)

  const states = cluster.nodes().map((node) => [node.id, node.app?.current()] as const)
  const describe = (version: Version | undefined): string => version === undefined ? 'down' : `${version.value}@${version.counter}/${version.writer}`
  const first = states[0]?.[1]
  if (states.some(([, state]) => state === undefined || first === undefined || newer(state, first) || newer(first, state))) {
    throw new Error(`replicas diverged: ${states.map(([id, state]) => `${id}=${describe(state)}`).join(' ')}`)
  }
  if (first !== undefined && newer(acked, first)) {
    throw new Error(`acknowledged write ${describe(acked)} was lost; replicas hold ${describe(first)}`)
  }
  return { writes, acks, faults: nemesis.history.length, value: describe(first) }
}

/** Converges under every fault: writes are broadcast and repeated by anti-entropy gossip. */
export const registerWorkload: Workload = defineWorkload({
  name: 'register',
  description: 'toy last-writer-wins register with anti-entropy; replicas must converge (passes)',
  duration: 10_000,
  run: async (context) => await runRegister(context, true)
})

/** Broadcasts each write once: a lost message or a crash leaves replicas diverged, so some seeds fail. */
export const naiveRegisterWorkload: Workload = defineWorkload({
  name: 'register-naive',
  description: 'the same register without anti-entropy; some seeds fail (a demonstration of a failure and its replay)',
  duration: 10_000,
  run: async (context) => await runRegister(context, false)
})

/** The built-in example workloads of `synod-sim`. */
export const exampleWorkloads: readonly Workload[] = [registerWorkload, naiveRegisterWorkload]
