import type { Clock, Logger, NodeId, SnapshotStorage, SnapshotWriter, Transport } from '@synod/interfaces'
import type { CoreSnapshotPoint, SnapshotChunk, SnapshotChunkAck, SnapshotSend } from '../core/index.js'
import type { RaftWireMessage } from './wire.js'

export interface SnapshotTransferComponents {
  id: NodeId
  transport: Transport<RaftWireMessage>
  snapshots: SnapshotStorage
  clock: Clock
  logger?: Logger | undefined
  chunkBytes: number
  chunkTimeoutMs: number
  /** The receiver's current term and commit index (stale or useless transfers are refused). */
  position(): { term: number, commitIndex: number }
  /** A snapshot from `from` is durably installed in snapshot storage. */
  received(from: NodeId, point: CoreSnapshotPoint): void
}

interface IncomingSnapshot {
  index: number
  term: number
  writer: SnapshotWriter
  position: number
}

const EMPTY = new Uint8Array(0)

/**
 * Chunked, resumable InstallSnapshot (Raft §7) between drivers: the core decides who needs a
 * snapshot, this moves the bytes. One chunk is in flight at a time (stop and wait); every answer
 * carries the receiver's write position, so a transfer that was cut off resumes where the
 * receiver's partial snapshot ends instead of starting over.
 */
export class SnapshotTransfer {
  readonly #c: SnapshotTransferComponents
  readonly #sending = new Set<string>()
  readonly #ackWaiters = new Map<string, (ack: SnapshotChunkAck | undefined) => void>()
  #incoming: IncomingSnapshot | undefined
  #incomingChain: Promise<void> = Promise.resolve()
  #closed = false

  constructor (components: SnapshotTransferComponents) {
    this.#c = components
  }

  /** Streams `send.meta` to `send.to`. Resolves true once the receiver installed it. */
  async send (send: SnapshotSend): Promise<boolean> {
    const key = `${send.to}:${send.meta.index}`
    if (this.#sending.has(key)) return false
    this.#sending.add(key)
    try {
      let offset = 0
      for (let attempt = 0; attempt < 16 && !this.#closed; attempt++) {
        // An empty first chunk asks the receiver where to resume (it may hold part of it already).
        let ack = await this.#sendChunk(send, offset, EMPTY, false)
        if (ack === undefined || ack.reject) return false
        offset = ack.nextOffset
        let restarted = false
        for await (const chunk of this.#c.snapshots.read({ index: send.meta.index, offset, chunkSize: this.#c.chunkBytes })) {
          ack = await this.#sendChunk(send, offset, chunk, false)
          if (ack === undefined || ack.reject) return false
          if (ack.nextOffset !== offset + chunk.byteLength) {
            offset = ack.nextOffset
            restarted = true
            break
          }
          offset = ack.nextOffset
        }
        if (restarted) continue
        ack = await this.#sendChunk(send, offset, EMPTY, true)
        return ack !== undefined && !ack.reject
      }
      return false
    } catch (error) {
      this.#c.logger?.warn({ error, to: send.to }, 'snapshot transfer failed')
      return false
    } finally {
      this.#sending.delete(key)
    }
  }

  async #sendChunk (send: SnapshotSend, offset: number, data: Uint8Array, done: boolean): Promise<SnapshotChunkAck | undefined> {
    const key = `${send.to}:${send.meta.index}`
    return await new Promise<SnapshotChunkAck | undefined>((resolve) => {
      const timer = this.#c.clock.setTimeout(() => { finish(undefined) }, this.#c.chunkTimeoutMs)
      const finish = (ack: SnapshotChunkAck | undefined): void => {
        this.#c.clock.clearTimeout(timer)
        if (this.#ackWaiters.get(key) === finish) this.#ackWaiters.delete(key)
        resolve(ack)
      }
      this.#ackWaiters.set(key, finish)
      const chunk: SnapshotChunk = { type: 'snapshot-chunk', from: this.#c.id, to: send.to, term: send.term, meta: send.meta, offset, data, done }
      if (!this.#c.transport.send(send.to, chunk, { bulk: true })) finish(undefined)
    })
  }

  /** An acknowledgement arrived for a chunk this node sent. */
  acknowledged (ack: SnapshotChunkAck): void {
    this.#ackWaiters.get(`${ack.from}:${ack.snapshotIndex}`)?.(ack)
  }

  /** A chunk arrived; chunks are written strictly one after another. */
  receive (chunk: SnapshotChunk): void {
    this.#incomingChain = this.#incomingChain.then(() => this.#receive(chunk))
  }

  async #receive (m: SnapshotChunk): Promise<void> {
    const position = this.#c.position()
    const reply = (nextOffset: number, reject: boolean): void => {
      this.#c.transport.send(m.from, { type: 'snapshot-chunk-ack', from: this.#c.id, to: m.from, term: position.term, snapshotIndex: m.meta.index, nextOffset, reject }, { bulk: true })
    }
    if (this.#closed) return
    if (m.term < position.term || m.meta.index <= position.commitIndex) {
      reply(0, true)
      return
    }
    try {
      let incoming = this.#incoming
      if (incoming === undefined || incoming.index !== m.meta.index || incoming.term !== m.meta.term) {
        await incoming?.writer.abort()
        this.#incoming = undefined
        // Snapshot storage resumes an interrupted write of the same snapshot (even across restarts).
        const writer = await this.#c.snapshots.begin(m.meta)
        incoming = { index: m.meta.index, term: m.meta.term, writer, position: writer.offset }
        this.#incoming = incoming
      }
      if (m.offset !== incoming.position) {
        reply(incoming.position, false)
        return
      }
      if (m.data.byteLength > 0) {
        await incoming.writer.write(m.data)
        incoming.position += m.data.byteLength
      }
      if (m.done) {
        await incoming.writer.commit()
        this.#incoming = undefined
        this.#c.received(m.from, { index: m.meta.index, term: m.meta.term, config: m.meta.config })
      }
      reply(incoming.position, false)
    } catch (error) {
      this.#c.logger?.warn({ error }, 'receiving a snapshot failed')
      await this.#incoming?.writer.abort().catch(() => {})
      this.#incoming = undefined
      reply(0, true)
    }
  }

  /** Abandons transfers in both directions. */
  async close (): Promise<void> {
    this.#closed = true
    for (const resolve of [...this.#ackWaiters.values()]) resolve(undefined)
    await this.#incomingChain.catch(() => {})
    await this.#incoming?.writer.abort().catch(() => {})
    this.#incoming = undefined
  }
}
