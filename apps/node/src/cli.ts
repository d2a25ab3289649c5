#!/usr/bin/env node
/**
 * `synod`: the reference node's command line.
 */
import * as client from './cli/client-commands.js'
import { readOptions } from './cli/args.js'
import { dev, devHelp, version } from './cli/dev.js'
import { defaultLockEndpoints, lockHelp, runLocked } from './cli/lock.js'
import { members, membersHelp } from './cli/members.js'
import { start, startHelp } from './cli/start.js'

const help = `synod: a replicated key-value and lock service on Raft or Paxos

Usage:
  synod dev [--nodes 3]                 start a local cluster (data in ./.synod)
  synod start --id ... --listen ...     run one node (synod start --help)
  synod put <key> <value>               write a key
  synod get <key> [--serializable]      read a key (linearizable by default)
  synod del <key>                       delete a key
  synod cas <key> <value> [--expected v | --expected-absent | --expected-revision n]
  synod list [prefix]                   list keys by prefix
  synod status                          role, term, leader and indexes of every endpoint
  synod shards                          a sharded cluster's shards: replicas, leaders, moves
  synod lock <name> -- <command>        run a command holding a lock (synod lock --help)
  synod members list|add|promote|remove change the cluster's members (synod members --help)

Client commands take --endpoints http://127.0.0.1:7001,... (default: the synod dev cluster)
and --token <token>. Options also come from SYNOD_<OPTION> environment variables.`

const defaultEndpoints = 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003'

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const print = (line: string): void => { console.log(line) }
  switch (command) {
    case undefined: case '--help': case '-h': case 'help': print(help); return 0
    case '--version': case '-v': print(version()); return 0
    case 'dev': return dev(rest, print)
    case 'start': return start(rest)
    case 'lock': return lockCommand(rest, print)
    case 'members': return membersCommand(rest, print)
    case 'put': case 'get': case 'del': case 'cas': case 'list': case 'status': case 'shards': return clientCommand(command, rest, print)
    default:
      console.error(`unknown command "${command}"\n\n${help}`)
      return 2
  }
}

async function clientCommand (command: string, argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = readOptions(argv, {
    endpoints: { type: 'string' },
    token: { type: 'string' },
    serializable: { type: 'boolean' },
    expected: { type: 'string' },
    'expected-absent': { type: 'boolean' },
    'expected-revision': { type: 'string' }
  })
  if (values.help === true) { print(help); return 0 }
  const endpoints = ((values.endpoints as string | undefined) ?? defaultEndpoints).split(',')
  const options = { endpoints, token: values.token as string | undefined, print }
  const [key, value] = positionals
  const needKey = (): string => {
    if (key === undefined) throw new Error(`synod ${command} needs a key`)
    return key
  }
  const needValue = (): string => {
    if (value === undefined) throw new Error(`synod ${command} needs a value`)
    return value
  }
  switch (command) {
    case 'put': return client.put(options, needKey(), needValue())
    case 'get': return client.get(options, needKey(), values.serializable === true)
    case 'del': return client.del(options, needKey())
    case 'list': return client.list(options, key ?? '')
    case 'status': return client.status(options)
    case 'shards': return client.shards(options)
    default: return client.cas(options, needKey(), needValue(), {
      ...(values['expected-absent'] === true ? { value: null } : typeof values.expected === 'string' ? { value: values.expected } : {}),
      ...(typeof values['expected-revision'] === 'string' ? { revision: Number(values['expected-revision']) } : {})
    })
  }
}

async function membersCommand (argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = readOptions(argv, {
    endpoints: { type: 'string' },
    token: { type: 'string' },
    learner: { type: 'boolean' },
    'api-url': { type: 'string' },
    'ws-url': { type: 'string' }
  })
  if (values.help === true || positionals.length === 0) { print(membersHelp); return values.help === true ? 0 : 2 }
  return members({
    endpoints: ((values.endpoints as string | undefined) ?? defaultEndpoints).split(','),
    token: values.token as string | undefined,
    print
  }, positionals, { learner: values.learner === true, apiUrl: values['api-url'] as string | undefined, wsUrl: values['ws-url'] as string | undefined })
}

async function lockCommand (argv: string[], print: (line: string) => void): Promise<number> {
  const separator = argv.indexOf('--')
  const own = separator === -1 ? argv : argv.slice(0, separator)
  const command = separator === -1 ? [] : argv.slice(separator + 1)
  const { values, positionals } = readOptions(own, {
    endpoints: { type: 'string' },
    token: { type: 'string' },
    'ttl-ms': { type: 'string' },
    'timeout-ms': { type: 'string' }
  })
  if (values.help === true || positionals[0] === undefined) { print(lockHelp); return values.help === true ? 0 : 2 }
  return runLocked({
    endpoints: ((values.endpoints as string | undefined) ?? defaultLockEndpoints).split(','),
    token: values.token as string | undefined,
    name: positionals[0],
    command,
    ttlMs: Number(values['ttl-ms'] ?? 10_000),
    timeoutMs: values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']),
    print
  })
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error: unknown) => {
  console.error(`synod: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})

export { devHelp, membersHelp, startHelp }
