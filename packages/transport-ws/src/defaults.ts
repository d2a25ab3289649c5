import type { Clock, Logger, Random } from '@synod/interfaces'

/** The system monotonic clock. Timers are unref'd: a transport alone never keeps a process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout (callback, ms) {
    const handle = setTimeout(callback, ms)
    handle.unref()
    return handle
  },
  clearTimeout (handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  }
}

/** `Math.random` as a `Random`. The transport only uses randomness for backoff jitter. */
export const mathRandom: Random = {
  next: () => Math.random(),
  int: (maxExclusive) => Math.floor(Math.random() * maxExclusive)
}

/** A logger that drops everything; the default when none is injected. */
export const silentLogger: Logger = {
  trace () {},
  debug () {},
  info () {},
  warn () {},
  error () {},
  child () { return silentLogger }
}
