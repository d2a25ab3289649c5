#!/usr/bin/env node
// The README's two commands land here, so they work on a machine with only Node 20 and npm:
//   npm run dev   -> installs, builds and starts a local cluster (`synod dev`)
//   npm test      -> installs, typechecks, lints, runs every test and the pack smoke test
// pnpm is taken from PATH if it is the pinned version, otherwise installed into .tools/ with npm
// (corepack is not used: its signature checks fail on some machines).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1]
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }

function run (command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options })
  if (result.error !== undefined) throw result.error
  return result.status ?? 1
}

function pnpmVersion () {
  const result = spawnSync('pnpm', ['--version'], { cwd: root, env, encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

function ensurePnpm () {
  if (pnpmVersion() === pinned) return
  const toolsBin = join(root, '.tools', 'node_modules', '.bin')
  env.PATH = `${toolsBin}${delimiter}${env.PATH ?? ''}`
  if (pnpmVersion() === pinned) return
  console.log(`installing pnpm@${pinned} into .tools/`)
  const status = run('npm', ['install', '--prefix', join(root, '.tools'), '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${pinned}`])
  if (status !== 0 || pnpmVersion() !== pinned) {
    console.error(`could not install pnpm@${pinned}`)
    process.exit(1)
  }
}

function step (name, command, args) {
  console.log(`\n== ${name}`)
  const status = run(command, args)
  if (status !== 0) console.error(`== ${name} failed (exit ${status})`)
  return status === 0
}

// Tests that drive a real browser or cut real network links need a few Debian packages. As root
// with apt-get (CI, a fresh VM) they are installed here; otherwise the tests that need them fail
// with a message naming what to install.
const systemPackages = [
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
  { bin: '/usr/sbin/nft', pkg: 'nftables' },
  { bin: '/usr/bin/faketime', pkg: 'faketime' }
]

function ensureSystemPackages () {
  const missing = systemPackages.filter(({ bin }) => !existsSync(bin)).map(({ pkg }) => pkg)
  if (missing.length === 0) return true
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')
  if (!canInstall) {
    console.warn(`missing system packages: ${missing.join(' ')} (install them with apt-get as root); the tests that need them will fail`)
    return true
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' }
  return step('apt-get update', 'apt-get', ['update', '-qq']) &&
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: aptEnv }) === 0
}

// The fault-injection suite builds network namespaces, so it needs root; CI runs as root.
function runFaults () {
  if (process.getuid?.() !== 0) {
    console.warn('\n== fault injection: not run (needs root for network namespaces); run `sudo pnpm test:faults -- --profile short`')
    return true
  }
  return step('fault injection (short profile)', 'pnpm', ['--filter', '@synod/faults', 'test:faults', '--', '--profile', 'short'])
}

const [mode, ...rest] = process.argv.slice(2)
ensurePnpm()
if (!step('install', 'pnpm', ['install', '--frozen-lockfile'])) process.exit(1)

if (mode === 'dev') {
  if (!step('build', 'pnpm', ['turbo', 'run', 'build', '--filter=@synod/node...', '--output-logs=errors-only'])) process.exit(1)
  process.exit(run('node', [join(root, 'apps', 'node', 'dist', 'cli.js'), 'dev', ...rest]))
} else if (mode === 'test') {
  if (!ensureSystemPackages()) console.error('could not install the system packages some tests need')
  const results = {
    typecheck: step('typecheck', 'pnpm', ['turbo', 'run', 'typecheck', '--output-logs=errors-only', '--continue']),
    lint: step('lint', 'pnpm', ['turbo', 'run', 'lint', '--output-logs=errors-only', '--continue']),
    test: step('test', 'pnpm', ['turbo', 'run', 'test', '--concurrency=2', '--continue', ...rest]),
    pack: existsSync(join(root, 'scripts', 'pack-smoke.mjs')) ? step('pack smoke test', 'node', ['scripts/pack-smoke.mjs']) : true,
    faults: runFaults()
  }
  const summary = run('node', ['scripts/test-summary.mjs'])
  const failed = Object.entries(results).filter(([, ok]) => !ok).map(([name]) => name)
  if (failed.length > 0) console.error(`failed steps: ${failed.join(', ')}`)
  process.exit(failed.length > 0 || summary !== 0 ? 1 : 0)
} else {
  console.error('usage: node scripts/bootstrap.mjs <dev|test> [args...]')
  process.exit(2)
}
