import type { TestSetup } from './index.js'

/** The shape of every compliance suite. */
export type Suite<T, Capabilities extends object = Record<string, never>> = (setup: TestSetup<T, Capabilities>) => void
