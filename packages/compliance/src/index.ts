/**
 * @packageDocumentation
 *
 * Shared compliance suites: one per Synod contract, each exported from its own subpath
 * (`@synod/compliance/log-storage`, `@synod/compliance/transport`, ...) as a function
 * `(setup: TestSetup<T, Capabilities>) => void` that registers vitest tests. Every implementation of
 * a contract runs the suite from its own `test/compliance.test.ts`; capability flags skip what an
 * implementation does not claim (libp2p's interface-compliance-tests).
 *
 * @example
 * ```ts
 * import { withCapabilities } from '@synod/compliance'
 *
 * const caps = withCapabilities({ durable: true }, { durable: false, crash: false })
 * console.log(caps.durable, caps.crash)
 * ```
 */

/** How a suite obtains fresh instances of the implementation under test. */
export interface TestSetup<T, Capabilities extends object = Record<string, never>> {
  /** Creates a fresh, unstarted instance. */
  setup(): Promise<T>
  /** Releases everything `setup` created (stop, delete temp dirs). */
  teardown(instance: T): Promise<void>
  /** Optional behaviours the implementation claims; tests of unclaimed ones are skipped. */
  capabilities?: Partial<Capabilities>
}

/** Fills unspecified capability flags with the suite's defaults. */
export function withCapabilities<C extends object> (claimed: Partial<C> | undefined, defaults: C): C {
  return { ...defaults, ...(claimed ?? {}) }
}

export type { Suite } from './suite.js'
