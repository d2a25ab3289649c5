#!/usr/bin/env node
// `pnpm bench` runs every package's benchmark one after another (never in parallel: they would
// disturb each other); `pnpm bench ring` runs one; `pnpm bench kv` runs the node against etcd. Extra arguments after `--` reach the benchmark.
import { spawnSync } from 'node:child_process'

const [name, ...rest] = process.argv.slice(2).filter((arg) => arg !== '--')
// `kv` is the node's Synod-versus-etcd benchmark.
const aliases = { kv: '@synod/node', node: '@synod/node' }
const target = name === undefined ? undefined : aliases[name] ?? (name.startsWith('@') ? name : `@synod/${name}`)
const filter = target === undefined ? [] : [`--filter=${target}`]
const args = ['turbo', 'run', 'bench', '--concurrency=1', '--output-logs=full', ...filter, ...(rest.length > 0 ? ['--', ...rest] : [])]
const result = spawnSync('pnpm', args, { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })
process.exit(result.status ?? 1)
