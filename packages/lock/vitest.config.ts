import { synodVitestConfig } from '../../vitest.shared.js'

// Everything runs on virtual time, so a test that needs more than a few seconds is hung.
export default synodVitestConfig({ testTimeout: 10_000 })
