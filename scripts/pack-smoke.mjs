#!/usr/bin/env node
// Packs every public package the way it will be published, checks each with publint and the packed
// file list, installs all tarballs with plain npm into an empty project outside the workspace, then
// type-checks and runs every README example (```ts example blocks) against the installed packages.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' }
const problems = []

function sh (command, args, cwd, options = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', ...options })
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stdout ?? ''}${result.stderr ?? ''}`)
  }
  return result.stdout
}

const packages = readdirSync(join(root, 'packages')).sort()
  .map((name) => ({ name, dir: join(root, 'packages', name) }))
  .filter(({ dir }) => existsSync(join(dir, 'package.json')))
  .map((pkg) => ({ ...pkg, manifest: JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => manifest.private !== true)

console.log(`building ${packages.length} packages`)
sh('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only', ...packages.map(({ manifest }) => `--filter=${manifest.name}`)], root)

const work = mkdtempSync(join(tmpdir(), 'synod-pack-'))
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)
try {
  for (const { dir, manifest } of packages) {
    const lint = spawnSync('pnpm', ['exec', 'publint', '--strict', dir], { cwd: root, env, encoding: 'utf8' })
    if (lint.status !== 0) problems.push(`${manifest.name}: publint\n${lint.stdout}${lint.stderr}`)

    const out = sh('pnpm', ['pack', '--json', '--pack-destination', tarballs], dir)
    const packed = JSON.parse(out.slice(out.indexOf('{')))
    const files = (packed.files ?? []).map((file) => file.path)
    const stray = files.filter((file) => !/^(dist\/|src\/|README\.md$|LICENSE$|package\.json$|CHANGELOG\.md$|bin\/)/.test(file) || /\.tsbuildinfo$/.test(file))
    if (stray.length > 0) problems.push(`${manifest.name}: ships unexpected files: ${stray.join(', ')}`)

    const inner = execFileSync('tar', ['-xOzf', packed.filename, 'package/package.json'], { encoding: 'utf8' })
    if (inner.includes('workspace:')) problems.push(`${manifest.name}: packed manifest still has a workspace: range`)
  }

  const project = join(work, 'project')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'synod-smoke', private: true, type: 'module' }, null, 2))
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const tsVersion = rootManifest.devDependencies.typescript
  const nodeTypes = rootManifest.devDependencies['@types/node']
  console.log('installing the tarballs with npm into an empty project')
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...readdirSync(tarballs).map((file) => join(tarballs, file)), `typescript@${tsVersion}`, `@types/node@${nodeTypes}`], project)

  // Every README example must compile against the published types and run against the published code.
  const examples = []
  for (const { dir, name, manifest } of packages) {
    const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : ''
    const blocks = [...readme.matchAll(/```ts example\n([\s\S]*?)```/g)].map((match) => match[1])
    if (blocks.length === 0) problems.push(`${manifest.name}: README has no \`\`\`ts example block`)
    blocks.forEach((code, i) => {
      const file = `${name}-${i}.ts`
      writeFileSync(join(project, file), code)
      examples.push({ file, pkg: manifest.name })
    })
  }
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'], skipLibCheck: false },
    include: ['*.ts']
  }, null, 2))
  const tsc = spawnSync(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: project, env, encoding: 'utf8' })
  if (tsc.status !== 0) problems.push(`README examples do not type-check against the packed packages:\n${tsc.stdout}${tsc.stderr}`)
  else {
    for (const { file, pkg } of examples) {
      const run = spawnSync('node', [join('out', file.replace(/\.ts$/, '.js'))], { cwd: project, env, encoding: 'utf8', timeout: 60_000 })
      if (run.status !== 0) problems.push(`${pkg}: README example ${file} failed:\n${run.stdout}${run.stderr}`)
      else console.log(`ok ${pkg} (${file})`)
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (problems.length > 0) {
  console.error(`\npack smoke test found ${problems.length} problem(s):\n`)
  for (const problem of problems) console.error(`- ${problem}\n`)
  process.exit(1)
}
console.log(`pack smoke test passed for ${packages.length} packages`)
