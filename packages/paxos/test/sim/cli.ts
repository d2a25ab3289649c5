/**
 * `pnpm --filter @synod/paxos sim paxos --seeds 10000`: runs the Paxos simulation workloads
 * through the synod-sim command line.
 */
import { runSimCli } from '@synod/sim'
import { workloads } from './paxos-workload.js'

const code = await runSimCli({ workloads, command: 'pnpm --filter @synod/paxos sim' }, process.argv.slice(2))
process.exitCode = code
