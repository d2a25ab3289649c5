#!/usr/bin/env node
// Scaffolds a workspace package: node scripts/new-package.mjs <name> "<description>" [--deps a,b] [--app]
// Creates packages/<name> (or apps/<name> with --app) with the manifest, tsconfigs and vitest config,
// and adds it to the root tsconfig.json solution. Existing files are left alone.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
const name = args[0]
const description = args[1] ?? ''
if (name === undefined || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: node scripts/new-package.mjs <name> "<description>" [--deps a,b] [--app]')
  process.exit(2)
}
const depsIndex = args.indexOf('--deps')
const deps = depsIndex >= 0 ? (args[depsIndex + 1] ?? '').split(',').filter(Boolean) : []
const app = args.includes('--app')
const dir = join(app ? 'apps' : 'packages', name)
const pkgName = `@synod/${name}`

function write (file, content) {
  const path = join(dir, file)
  if (existsSync(path)) return
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, content)
}

const manifest = {
  name: pkgName,
  version: '0.0.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  types: './dist/index.d.ts',
  files: ['dist', 'src', '!dist/**/*.tsbuildinfo'],
  engines: { node: '>=20.19' },
  repository: { type: 'git', url: 'git+https://github.com/synod-dev/synod.git', directory: dir },
  publishConfig: { access: 'public' },
  scripts: {
    build: 'tsc -b tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'eslint src test',
    test: 'vitest run'
  },
  dependencies: Object.fromEntries(deps.map((d) => [`@synod/${d}`, 'workspace:^']))
}
if (app) manifest.private = true
write('package.json', JSON.stringify(manifest, null, 2) + '\n')

write('tsconfig.json', JSON.stringify({
  extends: '../../tsconfig.dev.json',
  include: ['src', 'test', 'bench']
}, null, 2) + '\n')

write('tsconfig.build.json', JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { composite: true, rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.build.tsbuildinfo' },
  include: ['src'],
  references: deps.map((d) => ({ path: `../../packages/${d}/tsconfig.build.json` }))
}, null, 2) + '\n')

write('vitest.config.ts', `import { synodVitestConfig } from '../../vitest.shared.js'

export default synodVitestConfig()
`)

write('src/index.ts', `/**
 * @packageDocumentation
 *
 * ${description}
 */
export {}
`)

write('README.md', `# ${pkgName}

${description}

## Install

\`\`\`sh
npm install ${pkgName}
\`\`\`

## Example

\`\`\`ts example
import * as pkg from '${pkgName}'

console.log(Object.keys(pkg))
\`\`\`

## API

## Guarantees and limits
`)

// Add the package to the root solution so `tsc -b` at the root builds everything in order.
const rootConfigPath = 'tsconfig.json'
const rootConfig = existsSync(rootConfigPath) ? JSON.parse(readFileSync(rootConfigPath, 'utf8')) : { files: [], references: [] }
const ref = `./${dir}/tsconfig.build.json`
if (!rootConfig.references.some((r) => r.path === ref)) {
  rootConfig.references.push({ path: ref })
  rootConfig.references.sort((a, b) => a.path.localeCompare(b.path))
  writeFileSync(rootConfigPath, JSON.stringify(rootConfig, null, 2) + '\n')
}
console.log(`scaffolded ${pkgName} in ${dir}`)
