import { nftHealScript, nftScript, type NetworkFaults } from '../net/nft.js'
import { namespacesOf, setupCommands, type Topology } from '../topology.js'
import { run, runQuietSync } from './exec.js'

/** The built network: apply and heal faults in the bridge namespace, tear everything down. */
export interface TestNetwork {
  apply(faults: NetworkFaults): Promise<void>
  heal(): Promise<void>
  teardown(): void
}

/**
 * Removes namespaces left by an earlier run with the same prefix (a crash, a `kill -9` of the
 * harness): first every process still inside them, then the namespaces (their veths go with them).
 */
export function removeStaleNamespaces (prefix: string): string[] {
  const names = runQuietSync(['ip', 'netns', 'list']).split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`))
  for (const name of names) {
    for (const pid of runQuietSync(['ip', 'netns', 'pids', name]).split('\n').map(Number).filter((pid) => pid > 1)) {
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
  }
  for (const name of names) runQuietSync(['ip', 'netns', 'delete', name])
  return names
}

export async function createTestNetwork (topology: Topology): Promise<TestNetwork> {
  removeStaleNamespaces(topology.prefix)
  const ipOf = new Map(topology.nodes.map((node) => [node.id, node.ip]))
  const ids = topology.nodes.map((node) => node.id)
  const nft = async (script: string): Promise<void> => {
    await run(['ip', 'netns', 'exec', topology.bridgeNamespace, 'nft', '-f', '-'], script)
  }
  const teardown = (): void => { removeStaleNamespaces(topology.prefix) }
  try {
    for (const command of setupCommands(topology)) await run(command)
    await nft(nftHealScript())
  } catch (error) {
    teardown()
    throw error
  }
  return {
    apply: async (faults) => {
      await nft(nftScript(faults, (id) => {
        const ip = ipOf.get(id)
        if (ip === undefined) throw new RangeError(`unknown node ${id}`)
        return ip
      }, ids))
    },
    heal: async () => { await nft(nftHealScript()) },
    teardown
  }
}

export { namespacesOf }
