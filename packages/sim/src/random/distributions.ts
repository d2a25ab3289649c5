import { InvalidArgumentError } from '@synod/interfaces'
import type { SimRandom } from './random.js'

/**
 * A distribution of non-negative durations in milliseconds (message latency, fsync time), sampled
 * from a stream the caller provides. `describe` names it in traces and reports.
 */
export interface Distribution {
  sample(random: SimRandom): number
  readonly description: string
}

function check (condition: boolean, message: string): void {
  if (!condition) throw new InvalidArgumentError(message)
}

/** Always `ms`. */
export function constant (ms: number): Distribution {
  check(ms >= 0, `constant(${ms}): must be >= 0`)
  return { sample: () => ms, description: `constant(${ms}ms)` }
}

/** Uniform in [min, max). */
export function uniform (min: number, max: number): Distribution {
  check(min >= 0 && max >= min, `uniform(${min}, ${max}): need 0 <= min <= max`)
  return { sample: (random) => random.floatBetween(min, max), description: `uniform(${min}ms, ${max}ms)` }
}

/** `min` plus an exponentially distributed delay with the given mean: most messages are fast, a few are slow. */
export function exponential (mean: number, min = 0): Distribution {
  check(mean > 0 && min >= 0, `exponential(${mean}, ${min}): need mean > 0 and min >= 0`)
  return {
    sample: (random) => min - mean * Math.log(1 - random.next()),
    description: `exponential(mean ${mean}ms, min ${min}ms)`
  }
}

/** Normal with the given mean and standard deviation, clamped at `min` (Box-Muller). */
export function normal (mean: number, stddev: number, min = 0): Distribution {
  check(stddev >= 0, `normal(${mean}, ${stddev}): stddev must be >= 0`)
  return {
    sample: (random) => {
      const u = 1 - random.next()
      const v = random.next()
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
      return Math.max(min, mean + stddev * z)
    },
    description: `normal(mean ${mean}ms, sd ${stddev}ms, min ${min}ms)`
  }
}

/**
 * `base` most of the time, and `slow` with probability `p`: models a link that usually behaves and
 * sometimes stalls (GC pauses, a congested switch).
 */
export function mixture (base: Distribution, slow: Distribution, p: number): Distribution {
  check(p >= 0 && p <= 1, `mixture p=${p}: must be in [0, 1]`)
  return {
    sample: (random) => random.chance(p) ? slow.sample(random) : base.sample(random),
    description: `${base.description}, ${p * 100}% ${slow.description}`
  }
}
