#!/usr/bin/env node
import { errorMessage } from '../core/simulation.js'
import { exampleWorkloads } from '../examples/register.js'
import { loadWorkloads } from './load-workloads.js'
import { runSimCli, usage } from './run-sim-cli.js'

/**
 * `synod-sim <workload> [options]`. The workload is one of the built-in examples (`register`,
 * `register-naive`), or a module exporting workloads: `synod-sim @synod/raft/sim#raft-kv`,
 * `synod-sim ./dist/my-workloads.js` (resolved from the current directory).
 */
async function main (argv: string[]): Promise<number> {
  const [spec, ...rest] = argv
  if (spec === undefined || spec === '--help' || spec === '-h') {
    process.stdout.write(`${usage('synod-sim')}\nbuilt-in workloads: ${exampleWorkloads.map((w) => w.name).join(', ')}\n` +
      'or a module that exports workloads: synod-sim <module>[#<workload>] [options]\n')
    return spec === undefined ? 2 : 0
  }
  if (spec === '--list') return await runSimCli({ workloads: exampleWorkloads, command: 'synod-sim' }, ['--list'])
  const builtIn = exampleWorkloads.find((workload) => workload.name === spec)
  if (builtIn !== undefined) return await runSimCli({ workloads: exampleWorkloads, command: 'synod-sim' }, [spec, ...rest])
  let loaded
  try {
    loaded = await loadWorkloads(spec, process.cwd())
  } catch (err) {
    process.stderr.write(`synod-sim: cannot load workloads from '${spec}': ${errorMessage(err)}\n`)
    return 2
  }
  const specifier = loaded.name === undefined ? spec : spec.slice(0, spec.lastIndexOf('#'))
  const args = loaded.name === undefined ? rest : [loaded.name, ...rest]
  return await runSimCli({ workloads: loaded.workloads, command: `synod-sim ${specifier}` }, args)
}

process.exitCode = await main(process.argv.slice(2))
