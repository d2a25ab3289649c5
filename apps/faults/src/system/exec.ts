import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Runs a command, resolving with its stdout; rejects with its stderr in the message. */
export async function run (argv: readonly string[], input?: string): Promise<string> {
  const [file, ...args] = argv
  if (file === undefined) throw new Error('empty command')
  return await new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${argv.join(' ')} failed: ${stderr.trim() || error.message}`))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** Runs a command synchronously, ignoring failure: for teardown from an exit handler. */
export function runQuietSync (argv: readonly string[]): string {
  const [file, ...args] = argv
  if (file === undefined) return ''
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 })
  return result.status === 0 ? result.stdout : ''
}

/** Where Debian's `faketime` package keeps the preload library. */
const FAKETIME_LIBS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1'
]

export interface Tools {
  /** The libfaketime preload library, when installed. */
  readonly faketimeLib: string | undefined
}

function hasCommand (name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0
}

/**
 * Checks what the suite needs and explains what is missing: root, `ip` (iproute2) and `nft`
 * (nftables) are required; libfaketime (Debian package `faketime`) is optional and only clock faults
 * are skipped without it.
 */
export function checkTools (): { tools: Tools, problems: string[], notes: string[] } {
  const problems: string[] = []
  const notes: string[] = []
  if (process.getuid?.() !== 0) problems.push('the fault suite needs root (network namespaces, nft, signals to node processes); run it as root or in CI')
  if (!hasCommand('ip')) problems.push('`ip` (iproute2) is missing: apt-get install -y iproute2')
  if (!hasCommand('nft')) problems.push('`nft` is missing: apt-get install -y nftables')
  const faketimeLib = FAKETIME_LIBS.find((path) => existsSync(path))
  if (faketimeLib === undefined) notes.push('libfaketime is missing (apt-get install -y faketime): clock faults are skipped')
  return { tools: { faketimeLib }, problems, notes }
}
