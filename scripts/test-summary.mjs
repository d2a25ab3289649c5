#!/usr/bin/env node
// Sums the vitest JSON reports of every workspace package into one line: `N passed, N failed`.
// A package with a test script but no report counts as one failure (its run crashed).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
let passed = 0
let failed = 0
let skipped = 0
const missing = []

for (const group of ['packages', 'apps']) {
  const groupDir = join(root, group)
  if (!existsSync(groupDir)) continue
  for (const name of readdirSync(groupDir).sort()) {
    const manifestPath = join(groupDir, name, 'package.json')
    if (!existsSync(manifestPath)) continue
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
    if (manifest.scripts?.test === undefined) continue
    const reportPath = join(groupDir, name, 'test-results', 'vitest.json')
    if (!existsSync(reportPath)) {
      missing.push(`${group}/${name}`)
      failed += 1
      continue
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8'))
    if ((report.numTotalTests ?? 0) === 0) {
      missing.push(`${group}/${name}`)
      failed += 1
      continue
    }
    passed += report.numPassedTests ?? 0
    failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report)
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
    console.log(`${manifest.name}: ${report.numPassedTests ?? 0} passed, ${report.numFailedTests ?? 0} failed`)
  }
}

// A test file that fails to load counts as a failed suite without failed tests; count it once.
function countSuitesWithFailedTests (report) {
  return (report.testResults ?? []).filter((file) => file.status === 'failed' && (file.assertionResults ?? []).some((test) => test.status === 'failed')).length
}

for (const name of missing) console.log(`${name}: no tests ran (no test files, or the run crashed)`)
if (skipped > 0) console.log(`${skipped} skipped`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
