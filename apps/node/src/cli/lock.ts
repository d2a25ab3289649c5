import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createLockClient, type LockServer } from '@synod/lock'
import { systemClock } from '../system/clock.js'
import { connectHttpLockServer } from './http-lock-server.js'

export const lockHelp = `synod lock <name> [options] -- <command> [args...]

Runs <command> while holding the lock <name>. The fencing token is passed in SYNOD_LOCK_TOKEN
(and the name in SYNOD_LOCK_NAME): a resource that only accepts increasing tokens stays safe even
if this process pauses past its lease. If the session is lost, the command gets SIGTERM.

  --ttl-ms <ms>        session lease (default 10000)
  --timeout-ms <ms>    give up waiting for the lock after this long (default: wait forever)
  --endpoints, --token as for the other client commands`

export async function runLocked (options: { endpoints: string[], token?: string | undefined, name: string, command: string[], ttlMs: number, timeoutMs?: number | undefined, print: (line: string) => void }): Promise<number> {
  const [program, ...args] = options.command
  if (program === undefined) throw new Error('synod lock needs a command after --')
  const servers = (await Promise.all(options.endpoints.map(async (endpoint) => connectHttpLockServer(endpoint, options.token))))
    .filter((server): server is LockServer => server !== undefined)
  if (servers.length === 0) throw new Error(`no endpoint answered (${options.endpoints.join(', ')})`)
  const locks = createLockClient({ servers, clock: systemClock }, { ttlMs: options.ttlMs })
  try {
    return await locks.withLock(options.name, async (signal, lock) => {
      const child = spawn(program, args, {
        stdio: 'inherit',
        env: { ...process.env, SYNOD_LOCK_TOKEN: String(lock.token), SYNOD_LOCK_NAME: options.name }
      })
      const onLost = (): void => {
        options.print(`synod lock: lost ${options.name} (token ${lock.token}); stopping the command`)
        child.kill('SIGTERM')
      }
      signal.addEventListener('abort', onLost, { once: true })
      const [code, exitSignal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
      signal.removeEventListener('abort', onLost)
      return signal.aborted ? 75 : code ?? (exitSignal === null ? 1 : 128)
    }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
  } finally {
    await locks.stop()
  }
}
