import { benchCluster } from './cluster.js'
const r = await benchCluster({ storage: 'memory', proposers: 2000, durationMs: 4000 })
console.log(r.entries / r.seconds, r.p50, r.p99)
