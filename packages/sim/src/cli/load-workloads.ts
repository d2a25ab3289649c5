import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidArgumentError, NotFoundError } from '@synod/interfaces'
import type { Workload } from '../workload/workload.js'

function isWorkload (value: unknown): value is Workload {
  return typeof value === 'object' && value !== null &&
    typeof (value as Partial<Workload>).name === 'string' &&
    typeof (value as Partial<Workload>).run === 'function'
}

/** Collects the workloads a module exports: `workloads` (array or record), `default`, or any export that is one. */
export function workloadsOf (module: Record<string, unknown>): Workload[] {
  const found: Workload[] = []
  const add = (value: unknown): void => {
    if (isWorkload(value)) {
      if (!found.some((existing) => existing.name === value.name)) found.push(value)
    } else if (Array.isArray(value)) {
      for (const item of value) add(item)
    } else if (typeof value === 'object' && value !== null && value === module.workloads) {
      for (const item of Object.values(value)) add(item)
    }
  }
  add(module.workloads)
  add(module.default)
  for (const [key, value] of Object.entries(module)) if (key !== 'workloads' && key !== 'default') add(value)
  return found
}

type ExportTarget = string | null | { [condition: string]: ExportTarget } | ExportTarget[]

function pickCondition (target: ExportTarget | undefined): string | undefined {
  if (target === undefined || target === null) return undefined
  if (typeof target === 'string') return target
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickCondition(item)
      if (picked !== undefined) return picked
    }
    return undefined
  }
  for (const condition of ['import', 'node', 'default']) {
    const picked = pickCondition(target[condition])
    if (picked !== undefined) return picked
  }
  return undefined
}

/** Resolves `subpath` ('.' or './x') through a package.json `exports` map, including `*` patterns. */
function resolveExports (exports: ExportTarget | undefined, subpath: string): string | undefined {
  if (exports === undefined || exports === null) return undefined
  const map: Record<string, ExportTarget> = typeof exports === 'string' || Array.isArray(exports) ||
    !Object.keys(exports).some((key) => key.startsWith('.'))
    ? { '.': exports }
    : exports
  const exact = map[subpath]
  if (exact !== undefined) return pickCondition(exact)
  for (const [pattern, target] of Object.entries(map)) {
    const star = pattern.indexOf('*')
    if (star < 0) continue
    const prefix = pattern.slice(0, star)
    const suffix = pattern.slice(star + 1)
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= prefix.length + suffix.length) {
      const match = subpath.slice(prefix.length, subpath.length - suffix.length)
      return pickCondition(target)?.replaceAll('*', match)
    }
  }
  return undefined
}

/**
 * Resolves a module specifier the way `import` would from `cwd`: paths relative to `cwd`, and bare
 * package specifiers through `node_modules` (or the enclosing package itself) and `exports`.
 */
export function resolveFromDirectory (specifier: string, cwd: string): string {
  if (specifier.startsWith('file:')) return specifier
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(cwd, specifier)).href
  const parts = specifier.split('/')
  const nameLength = specifier.startsWith('@') ? 2 : 1
  const name = parts.slice(0, nameLength).join('/')
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.'
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'node_modules', name), dir]) {
      const manifestPath = join(candidate, 'package.json')
      if (!existsSync(manifestPath)) continue
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string, exports?: ExportTarget, main?: string }
      if (candidate === dir && manifest.name !== name) continue
      const target = resolveExports(manifest.exports, subpath) ??
        (manifest.exports === undefined ? (subpath === '.' ? manifest.main ?? 'index.js' : subpath) : undefined)
      if (target === undefined) throw new NotFoundError(`package ${name} does not export ${subpath}`)
      return pathToFileURL(join(candidate, target)).href
    }
    if (dirname(dir) === dir) break
  }
  throw new NotFoundError(`cannot find package ${name} from ${cwd}`)
}

/**
 * Loads the workloads named by `spec`: `module` (every workload it exports) or `module#name`.
 * Returns them with the name to run, if the spec chose one.
 */
export async function loadWorkloads (spec: string, cwd: string): Promise<{ workloads: Workload[], name: string | undefined }> {
  const hash = spec.lastIndexOf('#')
  const specifier = hash > 0 ? spec.slice(0, hash) : spec
  const name = hash > 0 ? spec.slice(hash + 1) : undefined
  const module = await import(resolveFromDirectory(specifier, cwd)) as Record<string, unknown>
  const workloads = workloadsOf(module)
  if (workloads.length === 0) throw new InvalidArgumentError(`${specifier} exports no workload (an object with a name and a run function)`)
  return { workloads, name }
}
