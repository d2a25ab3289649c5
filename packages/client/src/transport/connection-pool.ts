import { isSynodError, type AbortOptions, type Clock } from '@synod/interfaces'
import { connectRpcClient, type RpcClient } from '@synod/transport-ws'
import { UnavailableError } from '../errors.js'
import { raceSignal } from '../retry/signals.js'
import type { WireRequest } from '../wire.js'

export type Connection = RpcClient<WireRequest, unknown>

export interface ConnectionPoolInit {
  token: string | undefined
  connectTimeoutMs: number
  maxResponseBytes: number
  /** Called once per new connection, e.g. to learn the node's id. */
  onConnect: (endpoint: string, connection: Connection) => void
}

/**
 * One lazily opened connection per endpoint, shared by every call. A connection that fails is
 * dropped and the next call opens a new one; the retry loop spaces those attempts out.
 */
export class ConnectionPool {
  readonly #init: ConnectionPoolInit
  readonly #clock: Clock
  readonly #connections = new Map<string, Promise<Connection>>()
  /** Connections known to be open: the hot path skips the promise race. */
  readonly #open = new Map<string, Connection>()
  /** Requests in flight per connection, so that retiring one never cuts a call short. */
  readonly #held = new Map<Connection, number>()
  /** Retired connections waiting for their last request to finish. */
  readonly #retiring = new Set<Connection>()
  #closed = false

  constructor (init: ConnectionPoolInit, clock: Clock) {
    this.#init = init
    this.#clock = clock
  }

  /**
   * The endpoint's connection, opened if needed. Rejects with `ERR_UNAVAILABLE` when it cannot be
   * opened (nothing was sent), `ERR_UNAUTHORIZED` when the node refuses the token.
   */
  async get (endpoint: string, options: AbortOptions = {}): Promise<Connection> {
    const ready = this.#open.get(endpoint)
    if (ready !== undefined) return ready
    let connection = this.#connections.get(endpoint)
    if (connection === undefined) {
      connection = this.#connect(endpoint)
      this.#connections.set(endpoint, connection)
      connection.then((opened) => {
        if (this.#connections.get(endpoint) === connection) this.#open.set(endpoint, opened)
      }, () => {
        if (this.#connections.get(endpoint) === connection) this.#connections.delete(endpoint)
      })
    }
    // The connection is shared: one caller giving up must not abort it for the others.
    return raceSignal(connection, options.signal)
  }

  /** Forgets a broken connection (only if it is still the current one for the endpoint). */
  drop (endpoint: string, connection: Connection): void {
    // A caller only holds a connection after it was recorded as open, so this check is synchronous.
    if (this.#open.get(endpoint) !== connection) return
    this.#open.delete(endpoint)
    this.#connections.delete(endpoint)
    void connection.close().catch(() => {})
  }

  /** The endpoint's connection if it is open now: the hot path, with no promise to wait for. */
  ready (endpoint: string): Connection | undefined {
    return this.#open.get(endpoint)
  }

  /** Counts a request on `connection` as in flight until `unhold(connection)`, once per `hold`. */
  hold (connection: Connection): void {
    this.#held.set(connection, (this.#held.get(connection) ?? 0) + 1)
  }

  unhold (connection: Connection): void {
    const left = (this.#held.get(connection) ?? 1) - 1
    if (left > 0) {
      this.#held.set(connection, left)
      return
    }
    this.#held.delete(connection)
    if (this.#retiring.delete(connection)) void connection.close().catch(() => {})
  }

  /**
   * Stops using an endpoint's connection (its node left the cluster): later calls open a new one if
   * they still go there; the old one closes once no request is in flight on it.
   */
  retire (endpoint: string): void {
    const pending = this.#connections.get(endpoint)
    if (pending === undefined) return
    this.#connections.delete(endpoint)
    this.#open.delete(endpoint)
    pending.then((connection) => {
      // A macrotask later: callers that were awaiting this connection have taken their hold by then.
      this.#clock.setTimeout(() => {
        if (this.#held.has(connection) && !this.#closed) this.#retiring.add(connection)
        else void connection.close().catch(() => {})
      }, 0)
    }, () => {})
  }

  async close (): Promise<void> {
    this.#closed = true
    const open = [...this.#connections.values(), ...[...this.#retiring].map(async (connection) => connection)]
    this.#retiring.clear()
    this.#connections.clear()
    this.#open.clear()
    await Promise.all(open.map(async (connection) => {
      try {
        await (await connection).close()
      } catch {
        // It never opened.
      }
    }))
  }

  async #connect (endpoint: string): Promise<Connection> {
    const controller = new AbortController()
    const timer = this.#clock.setTimeout(() => { controller.abort() }, this.#init.connectTimeoutMs)
    try {
      const connection = await connectRpcClient<WireRequest, unknown>(endpoint, {
        signal: controller.signal,
        headers: this.#init.token === undefined ? {} : { authorization: `Bearer ${this.#init.token}` },
        maxResponseBytes: this.#init.maxResponseBytes
      })
      if (this.#closed) {
        await connection.close()
        throw new UnavailableError('client closed')
      }
      this.#init.onConnect(endpoint, connection)
      return connection
    } catch (error) {
      if (isSynodError(error, 'ERR_UNAUTHORIZED') || isSynodError(error, UnavailableError.code)) throw error
      const reason = controller.signal.aborted ? `no connection within ${this.#init.connectTimeoutMs} ms` : (error as Error).message
      throw new UnavailableError(`cannot reach ${endpoint}: ${reason}`, { cause: error })
    } finally {
      this.#clock.clearTimeout(timer)
    }
  }
}
