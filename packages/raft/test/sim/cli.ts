/**
 * `pnpm --filter @synod/raft sim raft --seeds 10000`: runs the Raft simulation workloads through
 * the synod-sim command line.
 */
import { runSimCli } from '@synod/sim'
import { workloads } from './raft-workload.js'

const code = await runSimCli({ workloads, command: 'pnpm --filter @synod/raft sim' }, process.argv.slice(2))
process.exitCode = code
