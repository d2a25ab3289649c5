import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createClient } from '@synod/client'
import { createLockClient, type LockClient, type LockServer } from '@synod/lock'
import { systemClock } from '../system/clock.js'
import { connectHttpLockServer } from './http-lock-server.js'

export const lockHelp = `synod lock <name> [options] -- <command> [args...]

Runs <command> while holding the lock <name>. The fencing token is passed in SYNOD_LOCK_TOKEN
(and the name in SYNOD_LOCK_NAME): a resource that only accepts increasing tokens stays safe even
if this process pauses past its lease. If the session is lost, the command gets SIGTERM.

  --ttl-ms <ms>        session lease (default 10000)
  --timeout-ms <ms>    give up waiting for the lock after this long (default: wait forever)
  --endpoints <urls>   nodes to use. ws:// URLs (the WebSocket client API, synod start --client-ws)
                       go through @synod/client: one connection, the leader followed, a queued
                       acquire answered the moment it is granted. With only http:// URLs it uses
                       the HTTP lock routes. Default: the synod dev cluster's WebSocket endpoints
  --token <token>      bearer token, as for the other client commands

Exit status: the command's; 75 if the lock was lost while it ran.`

/** The WebSocket client API of the `synod dev` cluster (base port 7000). */
export const defaultLockEndpoints = 'ws://127.0.0.1:7021,ws://127.0.0.1:7022,ws://127.0.0.1:7023'

export interface RunLockedOptions {
  /** `ws://`/`wss://` (WebSocket client API) or `http://`/`https://` (HTTP lock routes) node URLs. */
  endpoints: string[]
  token?: string | undefined
  name: string
  command: string[]
  ttlMs: number
  timeoutMs?: number | undefined
  print: (line: string) => void
}

const isWebSocket = (endpoint: string): boolean => /^wss?:\/\//.test(endpoint)

/**
 * Runs the command holding the lock. WebSocket endpoints are preferred when given: the lock client
 * then runs over `@synod/client`'s routing (leader hints, retries, grants pushed by the leader);
 * HTTP endpoints are the fallback for a node without the WebSocket client API.
 */
export async function runLocked (options: RunLockedOptions): Promise<number> {
  if (options.command[0] === undefined) throw new Error('synod lock needs a command after --')
  const ws = options.endpoints.filter(isWebSocket)
  if (ws.length > 0) {
    const client = createClient({ endpoints: ws, ...(options.token === undefined ? {} : { token: options.token }) })
    const locks = client.locks({ ttlMs: options.ttlMs })
    try {
      return await holdWhileRunning(locks, options)
    } finally {
      // Closes the session first, which releases the lock at once.
      await client.close()
    }
  }
  const servers = (await Promise.all(options.endpoints.map(async (endpoint) => connectHttpLockServer(endpoint, options.token))))
    .filter((server): server is LockServer => server !== undefined)
  if (servers.length === 0) throw new Error(`no endpoint answered (${options.endpoints.join(', ')})`)
  const locks = createLockClient({ servers, clock: systemClock }, { ttlMs: options.ttlMs })
  try {
    return await holdWhileRunning(locks, options)
  } finally {
    await locks.stop()
  }
}

async function holdWhileRunning (locks: LockClient, options: RunLockedOptions): Promise<number> {
  const [program, ...args] = options.command as [string, ...string[]]
  return locks.withLock(options.name, async (signal, lock) => {
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
}
