import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino'
import type { LogFields, Logger } from '@synod/interfaces'

/** The levels `--log-level` accepts; `silent` turns logging off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export interface JsonLoggerInit {
  /** Lowest level written. @default 'info' */
  level?: LogLevel
  /** Fields on every line (a child logger's bindings). */
  bindings?: LogFields
  /** Where each JSON line goes (without its newline); tests pass their own. @default stderr */
  write?: (line: string) => void
}

/**
 * The node's structured logger: pino, writing one JSON object per line (pino's format: numeric
 * `level`, `time` in ms since the epoch, `pid`, `hostname`, the bindings of each child, `msg`), by
 * default synchronously to stderr so a `kill -9` loses no line already logged. Adapted to the
 * `Logger` contract of `@synod/interfaces`; `child()` is pino's own child logger.
 */
export function createJsonLogger (init: JsonLoggerInit = {}): Logger {
  const write = init.write
  const destination: DestinationStream = write === undefined
    ? pino.destination({ dest: 2, sync: true })
    : { write: (chunk: string) => { write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) } }
  const root = pino({
    level: init.level ?? 'info',
    // Errors logged under any of these keys keep their name, message, code and stack.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err }
  }, destination)
  return adapt(init.bindings === undefined ? root : root.child(init.bindings))
}

function adapt (logger: PinoLogger): Logger {
  return {
    trace: (fields, message) => { logger.trace(fields, message) },
    debug: (fields, message) => { logger.debug(fields, message) },
    info: (fields, message) => { logger.info(fields, message) },
    warn: (fields, message) => { logger.warn(fields, message) },
    error: (fields, message) => { logger.error(fields, message) },
    child: (bindings) => adapt(logger.child(bindings))
  }
}

/** Parses `--log-level`; throws naming the accepted levels. */
export function parseLogLevel (value: unknown): LogLevel {
  const level = value ?? 'info'
  if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${String(value)}"`)
  return level as LogLevel
}
