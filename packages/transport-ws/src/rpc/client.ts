import { WebSocket, type RawData } from 'ws'
import { AbortError, StoppedError, SynodError, type AbortOptions } from '@synod/interfaces'
import { createCorkedSender } from './cork.js'
import { RpcFrame, decodeRpc, encodeRpc, fromWireError } from './protocol.js'

/** Options of `connectRpcClient`. */
export interface RpcClientOptions extends AbortOptions {
  /** HTTP headers of the upgrade request, e.g. `{ authorization: 'Bearer ...' }`. @default {} */
  headers?: Record<string, string>
  /** TLS trust and, for mutual TLS, the client's certificate. @default undefined */
  tls?: { ca?: string | Buffer | Array<string | Buffer>, cert?: string | Buffer, key?: string | Buffer, servername?: string }
  /** Largest response frame accepted. @default 16 MiB */
  maxResponseBytes?: number
}

/** A connection to an `RpcServer`. */
export interface RpcClient<Req, Res> {
  /**
   * Sends a request and resolves with the response; rejects with the server's error (its `code`
   * and fields), `ERR_ABORTED` when `signal` fires (the server is told to cancel), or `ERR_STOPPED`
   * when the connection closes first.
   */
  request(body: Req, options?: AbortOptions): Promise<Res>
  /** Closes the connection; pending requests reject with `ERR_STOPPED`. */
  close(): Promise<void>
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

/** Opens a connection to an `RpcServer`; rejects with `ERR_UNAUTHORIZED` when the server refuses it. */
export async function connectRpcClient<Req = unknown, Res = unknown> (address: string, options: RpcClientOptions = {}): Promise<RpcClient<Req, Res>> {
  const tls = options.tls
  const ws = new WebSocket(address, {
    perMessageDeflate: false,
    maxPayload: options.maxResponseBytes ?? 16 * 1024 * 1024,
    headers: options.headers ?? {},
    ...(tls === undefined ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername })
  })
  const pending = new Map<number, Pending>()
  let nextId = 1
  let closedError: Error | undefined

  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      ws.terminate()
      reject(new AbortError(undefined, { cause: options.signal?.reason }))
    }
    if (options.signal?.aborted === true) { onAbort(); return }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    ws.once('open', () => {
      options.signal?.removeEventListener('abort', onAbort)
      resolve()
    })
    ws.once('unexpected-response', (_request, response) => {
      options.signal?.removeEventListener('abort', onAbort)
      ws.terminate()
      reject(response.statusCode === 401
        ? new SynodError('the server refused the client', 'ERR_UNAUTHORIZED')
        : new SynodError(`the server answered HTTP ${response.statusCode ?? 0}`, 'ERR_UNAVAILABLE'))
    })
    ws.once('error', (err) => {
      options.signal?.removeEventListener('abort', onAbort)
      reject(err)
    })
  })

  const send = createCorkedSender(ws)
  ws.on('error', () => {})
  ws.on('close', (code, reason) => {
    closedError = new StoppedError(`connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`)
    for (const request of pending.values()) request.reject(closedError)
    pending.clear()
  })
  ws.on('message', (data: RawData, isBinary) => {
    let type: number, id: number, body: unknown
    try {
      [type, id, body] = decodeRpc(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary)
    } catch (err) {
      ws.close(4400, (err as SynodError).code)
      return
    }
    const request = pending.get(id)
    if (request === undefined) return
    pending.delete(id)
    if (type === RpcFrame.response) request.resolve(body)
    else if (type === RpcFrame.error) request.reject(fromWireError(body))
  })

  return {
    async request (body, requestOptions) {
      const signal = requestOptions?.signal
      if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
      if (closedError !== undefined || ws.readyState !== WebSocket.OPEN) throw closedError ?? new StoppedError('connection closed')
      const id = nextId++
      return new Promise<Res>((resolve, reject) => {
        const onAbort = (): void => {
          if (!pending.delete(id)) return
          if (ws.readyState === WebSocket.OPEN) send(encodeRpc([RpcFrame.cancel, id]))
          // The server may already have acted on the request.
          reject(new AbortError(undefined, { cause: signal?.reason, indeterminate: true }))
        }
        pending.set(id, {
          resolve: (value) => { signal?.removeEventListener('abort', onAbort); resolve(value as Res) },
          reject: (error) => { signal?.removeEventListener('abort', onAbort); reject(error) }
        })
        signal?.addEventListener('abort', onAbort, { once: true })
        send(encodeRpc([RpcFrame.request, id, body]))
      })
    },
    async close () {
      if (ws.readyState === WebSocket.CLOSED) return
      await new Promise<void>((resolve) => {
        ws.once('close', () => { resolve() })
        ws.close(1000)
      })
    }
  }
}
