/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>

/**
 * A structured logger, injected (a pino logger satisfies it). Each component logs through a child
 * carrying its bindings: `logger.child({ component: 'raft', group })`.
 */
export interface Logger {
  trace(fields: LogFields, message?: string): void
  debug(fields: LogFields, message?: string): void
  info(fields: LogFields, message?: string): void
  warn(fields: LogFields, message?: string): void
  error(fields: LogFields, message?: string): void
  child(bindings: LogFields): Logger
}
