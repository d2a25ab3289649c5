import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * Reads options from flags, then `SYNOD_<NAME>` environment variables, then a JSON config file
 * (`--config`), in that order of precedence.
 */
export function readOptions<T extends ParseArgsConfig['options']> (argv: string[], options: T, env: NodeJS.ProcessEnv = process.env): { values: Record<string, string | boolean | undefined>, positionals: string[] } {
  const parsed = parseArgs({ args: argv, options: { ...options, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  const values: Record<string, string | boolean | undefined> = { ...(parsed.values as Record<string, string | boolean | undefined>) }
  const file = typeof values.config === 'string' ? JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown> : {}
  for (const name of Object.keys(options ?? {})) {
    if (values[name] !== undefined) continue
    const fromEnv = env[`SYNOD_${name.toUpperCase().replace(/-/g, '_')}`]
    if (fromEnv !== undefined) values[name] = options?.[name]?.type === 'boolean' ? fromEnv === 'true' || fromEnv === '1' : fromEnv
    else if (file[name] !== undefined) values[name] = file[name] as string | boolean
  }
  return { values, positionals: parsed.positionals }
}

/** Parses `n1=127.0.0.1:7001,n2=...` into a map of node id to address. */
export function parsePeers (text: string | undefined): Map<string, string> {
  const peers = new Map<string, string>()
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf('=')
    if (at <= 0) throw new Error(`--peers entry "${part}" is not id=host:port`)
    peers.set(part.slice(0, at), part.slice(at + 1))
  }
  return peers
}
