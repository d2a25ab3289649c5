import { synodVitestConfig } from '../../vitest.shared.js'

export default synodVitestConfig()
