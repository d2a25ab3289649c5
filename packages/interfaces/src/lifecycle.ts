/**
 * Anything with a lifecycle. Both methods are idempotent: starting a started component or stopping a
 * stopped one does nothing. (libp2p `Startable`.)
 */
export interface Startable {
  start(): Promise<void>
  stop(): Promise<void>
}

/** Returns true if `value` has `start` and `stop` methods. */
export function isStartable (value: unknown): value is Startable {
  return typeof value === 'object' && value !== null &&
    typeof (value as Partial<Startable>).start === 'function' &&
    typeof (value as Partial<Startable>).stop === 'function'
}
