export { createVirtualClock, type VirtualClock } from './virtual-clock.js'
export {
  runSimulation,
  type BalancerFactory, type SimBackend, type SimBackendResult, type SimComponents, type SimObserver,
  type SimPeriod, type SimResult, type SimScenario
} from './simulator.js'
export { slowBackendScenario, failingBackendScenario, transientSlownessScenario } from './scenarios.js'
export { quantile, summarize, type LatencySummary } from './stats.js'
