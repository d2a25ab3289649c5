import { checkHistory } from '../checker/check.js'
import { MalformedHistoryError } from '../history/errors.js'
import { parseHistory } from '../history/parse.js'
import { createKvModel } from '../models/kv.js'
import { createLockModel } from '../models/lock.js'
import type { AnyModel } from '../models/model.js'
import { renderTimelineHtml } from '../report/html.js'
import { formatReport } from '../report/text.js'

/** Exit codes of `synod-lincheck`. */
export const ExitCode = {
  linearizable: 0,
  notLinearizable: 1,
  gaveUp: 2,
  malformed: 3,
  usage: 64
} as const

export const USAGE = `usage: synod-lincheck [--model kv|lock] [--timeout-ms N] [--html FILE] [history.json] < history.json

Checks a history (JSON, read from the file or standard input) for linearizability and prints
LINEARIZABLE or NOT LINEARIZABLE, with an explanation of the smallest failing key.

  --model kv|lock   the model to check against (default kv)
  --timeout-ms N    give up after N milliseconds, 0 for no limit (default 60000)
  --html FILE       also write an HTML timeline of the failing key to FILE
  --quiet           print only the verdict line

exit status: 0 linearizable, 1 not linearizable, 2 gave up at the time limit,
             3 malformed history, 64 bad command line
`

/** What the CLI touches, injected so it can be tested without a process. */
export interface CliIo {
  readInput(path: string | undefined): Promise<string>
  stdout(text: string): void
  stderr(text: string): void
  writeFile(path: string, content: string): Promise<void>
}

const MODELS: Record<string, () => AnyModel> = { kv: createKvModel, lock: createLockModel }

interface CliArgs { model: AnyModel, timeoutMs: number, html: string | undefined, quiet: boolean, file: string | undefined }

function parseArgs (argv: readonly string[]): CliArgs | string {
  const args: CliArgs = { model: createKvModel(), timeoutMs: 60_000, html: undefined, quiet: false, file: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = (): string | undefined => inline ?? argv[++i]
    switch (flag) {
      case '--model': {
        const name = value()
        const factory = name === undefined ? undefined : MODELS[name]
        if (factory === undefined) return `--model must be one of ${Object.keys(MODELS).join(', ')}, got ${name ?? 'nothing'}`
        args.model = factory()
        break
      }
      case '--timeout-ms': {
        const text = value()
        const ms = Number(text)
        if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(ms)) return `--timeout-ms must be a non-negative integer, got ${text ?? 'nothing'}`
        args.timeoutMs = ms === 0 ? Number.POSITIVE_INFINITY : ms
        break
      }
      case '--html': {
        const file = value()
        if (file === undefined || file === '') return '--html needs a file name'
        args.html = file
        break
      }
      case '--quiet':
        args.quiet = true
        break
      default:
        if (arg.startsWith('-') && arg !== '-') return `unknown option ${arg}`
        if (args.file !== undefined) return 'only one history file may be given'
        args.file = arg === '-' ? undefined : arg
    }
  }
  return args
}

/** Runs `synod-lincheck` with `argv` (without the node and script paths); resolves to the exit code. */
export async function runCli (argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE)
    return 0
  }
  const args = parseArgs(argv)
  if (typeof args === 'string') {
    io.stderr(`synod-lincheck: ${args}\n\n${USAGE}`)
    return ExitCode.usage
  }

  let text: string
  try {
    text = await io.readInput(args.file)
  } catch (err) {
    io.stderr(`synod-lincheck: cannot read ${args.file ?? 'standard input'}: ${(err as Error).message}\n`)
    return ExitCode.usage
  }

  let result
  try {
    const history = parseHistory(text, args.model)
    result = checkHistory(history, { model: args.model, timeoutMs: args.timeoutMs })
  } catch (err) {
    if (err instanceof MalformedHistoryError || (err as { name?: unknown }).name === 'MalformedHistoryError') {
      io.stderr(`synod-lincheck: malformed history: ${(err as Error).message}\n`)
      return ExitCode.malformed
    }
    throw err
  }

  io.stdout(args.quiet ? `${formatReport(result, args.model).split('\n')[0]!}\n` : formatReport(result, args.model))
  if (args.html !== undefined) {
    await io.writeFile(args.html, renderTimelineHtml(result, args.model))
    if (!args.quiet) io.stdout(`timeline written to ${args.html}\n`)
  }
  switch (result.verdict) {
    case 'linearizable': return ExitCode.linearizable
    case 'not-linearizable': return ExitCode.notLinearizable
    default: return ExitCode.gaveUp
  }
}
