import { synodVitestConfig } from '../../vitest.shared.js'

// The multi-process cluster tests kill and restart real nodes on a 2-core machine; running their
// files one at a time keeps one test's CPU load from starving another's elections.
export default synodVitestConfig({ fileParallelism: false })
