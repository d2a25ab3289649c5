import { synodVitestConfig } from '../../vitest.shared.js'

// Threads without per-file isolation: the suite's files share no global state, and this halves its
// start-up cost on a busy machine.
export default synodVitestConfig({ pool: 'threads', isolate: false })
