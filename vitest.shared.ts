import { fileURLToPath } from 'node:url'
import { defineConfig, type ViteUserConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))

/**
 * Shared vitest settings for every workspace package.
 *
 * Tests run from TypeScript source: `@synod/x` resolves to `packages/x/src/index.ts` and
 * `@synod/x/sub` to `packages/x/src/sub.ts`, so no build is needed before `vitest run`.
 * Each run writes a JSON report to `test-results/vitest.json`, which `scripts/test-summary.mjs`
 * sums into the `N passed, N failed` line.
 */
export function synodVitestConfig (overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@synod\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
        { find: /^@synod\/([a-z0-9-]+)\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/$2.ts` }
      ]
    },
    test: {
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
      reporters: ['default', 'json'],
      outputFile: { json: 'test-results/vitest.json' },
      ...overrides
    }
  })
}
