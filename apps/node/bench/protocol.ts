/** Messages between the benchmark driver (`index.ts`) and a generator process (`generator.ts`). */

export type Workload = 'put' | 'get' | 'lock-1' | 'lock-100' | 'load'
export type System = 'synod' | 'etcd'

export interface RunRequest {
  system: System
  workload: Workload
  concurrency: number
  warmupMs: number
  seconds: number
  synod: { ws: string[], api: string[] }
  etcd: string[]
}

export interface RunResult {
  /** Operations completed inside the measured window. */
  ops: number
  errors: number
  firstError?: string | undefined
  elapsedMs: number
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  /** CPU time (user + system) the generator process spent in the measured window. */
  clientCpuUs: number
}

export type GeneratorMessage =
  | { type: 'measuring' }
  | { type: 'measured' }
  | { type: 'done', result: RunResult }
  | { type: 'failed', error: string }
