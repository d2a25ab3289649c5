import { synodVitestConfig } from '../../vitest.shared.js'

// The test files share no mutable module state, so they can share one module graph: on a busy
// machine, importing the sources once per worker instead of once per file saves most of the time.
export default synodVitestConfig({ isolate: false })
