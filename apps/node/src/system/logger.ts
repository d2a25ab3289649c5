import type { LogFields, Logger } from '@synod/interfaces'

const levels = ['trace', 'debug', 'info', 'warn', 'error'] as const
type Level = typeof levels[number]

/** A JSON-lines logger on stderr (pino's line format, without the dependency). */
export function createJsonLogger (init: { level?: Level, bindings?: LogFields, write?: (line: string) => void } = {}): Logger {
  const threshold = levels.indexOf(init.level ?? 'info')
  const bindings = init.bindings ?? {}
  const write = init.write ?? ((line: string) => { process.stderr.write(line + '\n') })
  const log = (level: Level) => (fields: LogFields, message?: string): void => {
    if (levels.indexOf(level) < threshold) return
    write(JSON.stringify({ level, time: Date.now(), ...bindings, ...fields, ...(message === undefined ? {} : { msg: message }) }, replacer))
  }
  return {
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => createJsonLogger({ ...init, bindings: { ...bindings, ...more } })
  }
}

function replacer (_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
  if (typeof value === 'bigint') return value.toString()
  return value
}
