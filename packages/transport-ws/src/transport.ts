import { WebSocket, type RawData } from 'ws'
import {
  BadFrameError, InvalidArgumentError, TypedEventEmitter, UnauthorizedError, isSynodError,
  type Clock, type Logger, type MessageHandler, type NodeId, type Random, type SendOptions,
  type TimerHandle, type TransportEvents
} from '@synod/interfaces'
import { mathRandom, silentLogger, systemClock } from './defaults.js'
import { listen, type Listener } from './listener.js'
import type { TlsOptions, WsTransport, WsTransportComponents, WsTransportInit, WsTransportStats } from './options.js'
import { backoffDelay, resolveBackoff, type ResolvedBackoff } from './peer/backoff.js'
import { Link } from './peer/link.js'
import { SendQueue } from './peer/send-queue.js'
import { estimateSize } from './peer/size.js'
import { CloseCode } from './wire/close-codes.js'
import { DATA_FRAME_TAG } from './wire/codec.js'
import {
  dialerProof, encodeHandshake, listenerProof, newIncarnation, newNonce, parseAuth, parseChallenge,
  parseWelcome, proofMatches
} from './wire/handshake.js'

/** Everything this node knows about one peer. */
interface PeerState<M> {
  readonly id: NodeId
  /** Set by addPeer; only known peers can be sent to and are redialed. */
  address: string | undefined
  readonly queue: SendQueue<M>
  /** The authenticated connection in use, in either direction. */
  link: Link | undefined
  /** An outbound connection that has not finished its handshake. */
  dialing: WebSocket | undefined
  /** Failed dials since the last authenticated connection; drives backoff. */
  attempt: number
  reconnectTimer: TimerHandle
  /** A send returned false; 'drain' fires once the queue is back under half. */
  wantsDrain: boolean
}

interface Resolved {
  maxFrameBytes: number
  maxQueueMessages: number
  maxQueueBytes: number
  bulkWindowBytes: number
  socketHighWaterBytes: number
  frameTargetBytes: number
  handshakeTimeoutMs: number
  maxPendingHandshakes: number
  backoff: ResolvedBackoff
  records: boolean
}

const MiB = 1024 * 1024
/** Bytes of frame overhead budgeted on top of a message when checking it against maxFrameBytes. */
const FRAME_OVERHEAD = 64

class WsTransportImpl<M> extends TypedEventEmitter<TransportEvents> implements WsTransport<M> {
  readonly localId: NodeId
  readonly #init: WsTransportInit<M>
  readonly #options: Resolved
  readonly #secret: Uint8Array
  readonly #clock: Clock
  readonly #random: Random
  readonly #log: Logger
  readonly #peers = new Map<NodeId, PeerState<M>>()
  readonly #handlers = new Set<MessageHandler<M>>()
  /** Peers with queued messages waiting for the end of this event-loop turn. */
  readonly #toFlush = new Set<PeerState<M>>()
  #flushScheduled = false
  #listener: Listener | undefined
  #started = false
  #incarnation = ''
  #pendingHandshakes = new Set<WebSocket>()
  /** Authenticated peer of each accepted socket, for error reports. */
  readonly #inboundPeer = new WeakMap<WebSocket, NodeId>()
  readonly #stats: Omit<WsTransportStats, 'queuedMessages'> = {
    messagesSent: 0, messagesReceived: 0, framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, dropped: 0, badFrames: 0, refused: 0
  }

  constructor (init: WsTransportInit<M>, components: WsTransportComponents) {
    super()
    if (typeof init.nodeId !== 'string' || init.nodeId.length === 0 || init.nodeId.length > 256) throw new InvalidArgumentError('nodeId must be a non-empty string of at most 256 characters', { field: 'nodeId' })
    if (typeof init.clusterId !== 'string' || init.clusterId.length === 0 || init.clusterId.length > 256) throw new InvalidArgumentError('clusterId must be a non-empty string of at most 256 characters', { field: 'clusterId' })
    this.#secret = typeof init.secret === 'string' ? Buffer.from(init.secret, 'utf8') : init.secret
    if (this.#secret.length < 16) throw new InvalidArgumentError('secret must be at least 16 bytes', { field: 'secret' })
    this.localId = init.nodeId
    this.#init = init
    this.#options = {
      maxFrameBytes: init.maxFrameBytes ?? 16 * MiB,
      maxQueueMessages: init.maxQueueMessages ?? 8192,
      maxQueueBytes: init.maxQueueBytes ?? 32 * MiB,
      bulkWindowBytes: init.bulkWindowBytes ?? 256 * 1024,
      socketHighWaterBytes: init.socketHighWaterBytes ?? 4 * MiB,
      frameTargetBytes: init.frameTargetBytes ?? 256 * 1024,
      handshakeTimeoutMs: init.handshakeTimeoutMs ?? 5000,
      maxPendingHandshakes: init.maxPendingHandshakes ?? 64,
      backoff: resolveBackoff(init.backoff),
      records: init.records ?? true
    }
    this.#clock = components.clock ?? systemClock
    this.#random = components.random ?? mathRandom
    this.#log = (components.logger ?? silentLogger).child({ component: 'transport-ws', node: init.nodeId })
    for (const [id, address] of Object.entries(init.peers ?? {})) this.addPeer(id, address)
  }

  get address (): string | undefined {
    return this.#listener?.address
  }

  stats (): WsTransportStats {
    let queuedMessages = 0
    for (const peer of this.#peers.values()) queuedMessages += peer.queue.count
    return { ...this.#stats, queuedMessages }
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#incarnation = newIncarnation()
    const listenOn = this.#init.listen ?? {}
    if (listenOn !== false) {
      this.#listener = await listen(listenOn.host ?? '127.0.0.1', listenOn.port ?? 0, this.#options.maxFrameBytes, this.#init.tls, (err) => {
        this.#stats.refused++
        this.#log.warn({ code: UnauthorizedError.code, reason: `TLS: ${err.message}` }, 'refused a TLS connection')
        this.safeDispatch('peer:error', { peer: undefined, code: UnauthorizedError.code, message: `TLS: ${err.message}` })
      })
      this.#listener.wss.on('connection', (socket) => { this.#accept(socket) })
    }
    this.#started = true
    this.#log.debug({ address: this.address }, 'started')
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    const closing: Array<Promise<void>> = []
    for (const peer of this.#peers.values()) {
      this.#cancelReconnect(peer)
      if (peer.dialing !== undefined) closing.push(closeSocket(peer.dialing, CloseCode.goingAway, 'stopping'))
      peer.dialing = undefined
      if (peer.link !== undefined) {
        peer.link.retired = true
        closing.push(closeSocket(peer.link.socket, CloseCode.goingAway, 'stopping'))
        peer.link = undefined
      }
      peer.queue.clear()
      peer.attempt = 0
    }
    for (const socket of this.#pendingHandshakes) closing.push(closeSocket(socket, CloseCode.goingAway, 'stopping'))
    this.#pendingHandshakes.clear()
    this.#toFlush.clear()
    await Promise.all(closing)
    await this.#listener?.close()
    this.#listener = undefined
    this.#log.debug({}, 'stopped')
  }

  send (to: NodeId, message: M, options?: SendOptions): boolean {
    const peer = this.#peers.get(to)
    if (!this.#started || peer?.address === undefined) {
      this.#stats.dropped++
      return false
    }
    const size = estimateSize(message)
    if (size + FRAME_OVERHEAD > this.#options.maxFrameBytes || !peer.queue.push(message, size, options?.bulk === true)) {
      this.#stats.dropped++
      peer.wantsDrain = true
      return false
    }
    if (peer.link !== undefined) this.#scheduleFlush(peer)
    else this.#dialSoon(peer)
    return true
  }

  onMessage (handler: MessageHandler<M>): () => void {
    // A wrapper per registration, so registering the same function twice yields two removable entries.
    const entry: MessageHandler<M> = (from, message) => { handler(from, message) }
    this.#handlers.add(entry)
    return () => { this.#handlers.delete(entry) }
  }

  addPeer (id: NodeId, address: string): void {
    if (id === this.localId) return
    if (!/^wss?:\/\//.test(address)) throw new InvalidArgumentError(`peer address must be ws:// or wss://, got ${address}`, { field: 'address' })
    const peer = this.#peer(id)
    const moved = peer.address !== undefined && peer.address !== address
    peer.address = address
    if (moved && peer.dialing !== undefined) {
      // A dial to the old address can only fail or reach a stale process; start over.
      void closeSocket(peer.dialing, CloseCode.normal, 'peer address changed')
      peer.dialing = undefined
    }
    if (moved) peer.attempt = 0
  }

  removePeer (id: NodeId): void {
    const peer = this.#peers.get(id)
    if (peer === undefined) return
    this.#peers.delete(id)
    this.#toFlush.delete(peer)
    this.#cancelReconnect(peer)
    peer.address = undefined
    peer.queue.clear()
    if (peer.dialing !== undefined) void closeSocket(peer.dialing, CloseCode.normal, 'peer removed')
    peer.dialing = undefined
    if (peer.link !== undefined) {
      peer.link.retired = true
      void closeSocket(peer.link.socket, CloseCode.normal, 'peer removed')
      peer.link = undefined
      this.safeDispatch('peer:disconnect', { peer: id, reason: 'peer removed' })
    }
  }

  peers (): NodeId[] {
    const known: NodeId[] = []
    for (const peer of this.#peers.values()) if (peer.address !== undefined) known.push(peer.id)
    return known
  }

  #peer (id: NodeId): PeerState<M> {
    let peer = this.#peers.get(id)
    if (peer === undefined) {
      peer = {
        id,
        address: undefined,
        queue: new SendQueue<M>(this.#options.maxQueueMessages, this.#options.maxQueueBytes),
        link: undefined,
        dialing: undefined,
        attempt: 0,
        reconnectTimer: undefined,
        wantsDrain: false
      }
      this.#peers.set(id, peer)
    }
    return peer
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Coalesces: every send in this event-loop turn to one peer leaves as one frame. */
  #scheduleFlush (peer: PeerState<M>): void {
    this.#toFlush.add(peer)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      const peers = [...this.#toFlush]
      this.#toFlush.clear()
      for (const p of peers) this.#flush(p)
    })
  }

  #flush (peer: PeerState<M>): void {
    const link = peer.link
    if (link === undefined || link.retired || link.socket.readyState !== WebSocket.OPEN) return
    const socket = link.socket
    const { socketHighWaterBytes, frameTargetBytes, bulkWindowBytes } = this.#options
    // The write callback fires once the frame reached the kernel; more may be sent then.
    const written = (): void => { if (!peer.queue.isEmpty && peer.link === link) this.#scheduleFlush(peer) }
    while (peer.queue.hasControl && socket.bufferedAmount < socketHighWaterBytes) {
      const frame: unknown[] = [DATA_FRAME_TAG]
      const count = peer.queue.takeControl(frame, frameTargetBytes)
      if (!this.#write(link, frame, count, written)) return
    }
    while (peer.queue.hasBulk && link.bulkInFlight < bulkWindowBytes && socket.bufferedAmount < socketHighWaterBytes) {
      const frame: unknown[] = [DATA_FRAME_TAG, peer.queue.shiftBulk()]
      let size = 0
      const bulkWritten = (): void => {
        link.bulkInFlight -= size
        written()
      }
      if (!this.#write(link, frame, 1, bulkWritten, (bytes) => { size = bytes; link.bulkInFlight += bytes })) return
    }
    if (peer.wantsDrain && peer.queue.belowLowWater) {
      peer.wantsDrain = false
      this.safeDispatch('drain', { peer: peer.id })
    }
  }

  /** Encodes and writes one frame; false if the link had to be closed. */
  #write (link: Link, frame: unknown[], count: number, onWritten: () => void, beforeSend?: (bytes: number) => void): boolean {
    let bytes: Buffer
    try {
      bytes = link.codec.encode(frame)
    } catch (err) {
      // Unencodable values (functions, symbols) in a message: drop that batch. The codec state may
      // be ahead of the peer's now, so the link is replaced by a fresh one.
      this.#stats.dropped += count
      this.#log.error({ peer: link.peer, err: (err as Error).message }, 'could not encode a message; reconnecting')
      this.#closeLink(link, CloseCode.normal, 'encoder reset')
      return false
    }
    if (bytes.length > this.#options.maxFrameBytes) {
      this.#stats.dropped += count
      this.#log.warn({ peer: link.peer, bytes: bytes.length }, 'frame over maxFrameBytes dropped; reconnecting')
      this.#closeLink(link, CloseCode.normal, 'encoder reset')
      return false
    }
    beforeSend?.(bytes.length)
    link.socket.send(bytes, { binary: true }, onWritten)
    this.#stats.framesSent++
    this.#stats.messagesSent += count
    this.#stats.bytesSent += bytes.length
    return true
  }

  // ---- dialing -------------------------------------------------------------------------------

  #dialSoon (peer: PeerState<M>): void {
    if (peer.link !== undefined || peer.dialing !== undefined || peer.reconnectTimer !== undefined) return
    this.#dial(peer)
  }

  #scheduleReconnect (peer: PeerState<M>): void {
    if (!this.#started || peer.address === undefined || peer.link !== undefined || peer.dialing !== undefined || peer.reconnectTimer !== undefined) return
    const delay = backoffDelay(this.#options.backoff, peer.attempt, this.#random)
    peer.attempt++
    peer.reconnectTimer = this.#clock.setTimeout(() => {
      peer.reconnectTimer = undefined
      if (this.#peers.get(peer.id) === peer) this.#dial(peer)
    }, delay)
  }

  #cancelReconnect (peer: PeerState<M>): void {
    if (peer.reconnectTimer !== undefined) this.#clock.clearTimeout(peer.reconnectTimer)
    peer.reconnectTimer = undefined
  }

  #dial (peer: PeerState<M>): void {
    if (!this.#started || peer.address === undefined || peer.link !== undefined || peer.dialing !== undefined) return
    const tls: TlsOptions | undefined = this.#init.tls
    const socket = new WebSocket(peer.address, {
      perMessageDeflate: false,
      // RFC 6455 masking protects browsers' intermediaries from cache poisoning; peers are not
      // browsers and authenticate each other, so a zero mask spares a copy-and-XOR of every byte.
      generateMask: zeroMask,
      maxPayload: this.#options.maxFrameBytes,
      handshakeTimeout: this.#options.handshakeTimeoutMs,
      ...(tls === undefined
        ? {}
        : { ca: tls.ca, ...(tls.mutual === true ? { cert: tls.cert, key: tls.key } : {}), ...(tls.servername === undefined ? {} : { servername: tls.servername }) })
    })
    peer.dialing = socket
    const nonce = newNonce()
    let challenge: ReturnType<typeof parseChallenge> | undefined
    let done = false
    const timer = this.#clock.setTimeout(() => {
      if (!done) this.#refuse(socket, peer.id, new UnauthorizedError('handshake timed out'), CloseCode.handshakeTimeout)
    }, this.#options.handshakeTimeoutMs)
    const finish = (): void => {
      done = true
      this.#clock.clearTimeout(timer)
      socket.off('message', onMessage)
      if (peer.dialing === socket) peer.dialing = undefined
    }
    const onMessage = (data: RawData, isBinary: boolean): void => {
      try {
        const bytes = toBuffer(data)
        if (challenge === undefined) {
          challenge = parseChallenge(bytes, isBinary)
          if (challenge.cluster !== this.#init.clusterId) throw new UnauthorizedError(`peer at ${peer.address} belongs to cluster ${challenge.cluster}`)
          if (challenge.node !== peer.id) throw new UnauthorizedError(`dialed ${peer.id} but reached ${challenge.node}`)
          const proof = dialerProof(this.#secret, {
            cluster: this.#init.clusterId, dialer: this.localId, listener: peer.id, incarnation: this.#incarnation, listenerNonce: challenge.nonce, dialerNonce: nonce
          })
          socket.send(encodeHandshake({ t: 'auth', v: 1, cluster: this.#init.clusterId, node: this.localId, target: peer.id, incarnation: this.#incarnation, nonce, proof }))
          return
        }
        const welcome = parseWelcome(bytes, isBinary)
        const expected = listenerProof(this.#secret, {
          cluster: this.#init.clusterId, dialer: this.localId, listener: peer.id, incarnation: challenge.incarnation, listenerNonce: challenge.nonce, dialerNonce: nonce
        })
        if (!proofMatches(welcome.proof, expected)) throw new UnauthorizedError(`${peer.id} failed to prove the cluster secret`)
        finish()
        this.#install(peer, new Link(socket, peer.id, 'out', challenge.incarnation, this.#options.records))
      } catch (err) {
        finish()
        this.#refuse(socket, peer.id, err)
      }
    }
    socket.on('message', onMessage)
    socket.on('error', (err) => { this.#onSocketError(socket, peer.id, err) })
    socket.once('close', (code) => {
      if (!done) {
        finish()
        // Make a misconfiguration (wrong secret or cluster) visible on the dialing side too.
        if (code === CloseCode.unauthorized) {
          this.#stats.refused++
          this.#log.warn({ peer: peer.id, code: UnauthorizedError.code }, 'peer refused our handshake')
          this.safeDispatch('peer:error', { peer: peer.id, code: UnauthorizedError.code, message: `${peer.id} refused the handshake` })
        }
      }
      // A dial that never became the peer's link (refused, failed, lost a simultaneous dial) is
      // retried with backoff; #scheduleReconnect does nothing while another link serves the peer.
      if (peer.link?.socket !== socket) this.#scheduleReconnect(peer)
    })
  }

  // ---- accepting -----------------------------------------------------------------------------

  #accept (socket: WebSocket): void {
    socket.on('error', (err) => { this.#onSocketError(socket, this.#inboundPeer.get(socket), err) })
    if (!this.#started || this.#pendingHandshakes.size >= this.#options.maxPendingHandshakes) {
      socket.close(CloseCode.tooManyHandshakes, 'too many pending handshakes')
      return
    }
    this.#pendingHandshakes.add(socket)
    const nonce = newNonce()
    let done = false
    const finish = (): void => {
      done = true
      this.#clock.clearTimeout(timer)
      this.#pendingHandshakes.delete(socket)
      socket.off('message', onMessage)
    }
    const timer = this.#clock.setTimeout(() => {
      if (done) return
      finish()
      this.#refuse(socket, undefined, new UnauthorizedError('handshake timed out'), CloseCode.handshakeTimeout)
    }, this.#options.handshakeTimeoutMs)
    const onMessage = (data: RawData, isBinary: boolean): void => {
      finish()
      let claimed: string | undefined
      try {
        const auth = parseAuth(toBuffer(data), isBinary)
        claimed = auth.node
        if (auth.cluster !== this.#init.clusterId) throw new UnauthorizedError(`wrong cluster id ${auth.cluster}`)
        if (auth.target !== this.localId) throw new UnauthorizedError(`connection meant for ${auth.target}`)
        if (auth.node === this.localId) throw new UnauthorizedError('peer claims this node\'s own id')
        const expected = dialerProof(this.#secret, {
          cluster: this.#init.clusterId, dialer: auth.node, listener: this.localId, incarnation: auth.incarnation, listenerNonce: nonce, dialerNonce: auth.nonce
        })
        if (!proofMatches(auth.proof, expected)) throw new UnauthorizedError('handshake proof does not match (wrong secret?)')
        const proof = listenerProof(this.#secret, {
          cluster: this.#init.clusterId, dialer: auth.node, listener: this.localId, incarnation: this.#incarnation, listenerNonce: nonce, dialerNonce: auth.nonce
        })
        const peer = this.#peer(auth.node)
        if (peer.dialing !== undefined) {
          // Simultaneous dial. The smaller id's connection wins. If ours is already open it will
          // complete (the peer always accepts the smaller id), so refuse theirs; otherwise drop ours
          // before it sends anything, so no message travels on a connection that will lose.
          if (this.localId < auth.node && peer.dialing.readyState === WebSocket.OPEN) {
            this.#log.debug({ peer: auth.node }, 'simultaneous dial: keeping our connection')
            void closeSocket(socket, CloseCode.superseded, 'simultaneous dial resolved')
            return
          }
          const ours = peer.dialing
          peer.dialing = undefined
          ours.terminate()
        }
        const link = new Link(socket, auth.node, 'in', auth.incarnation, this.#options.records)
        // Install before the welcome leaves, so frames the peer sends right after it find the link.
        if (this.#install(peer, link)) socket.send(encodeHandshake({ t: 'welcome', v: 1, proof }))
      } catch (err) {
        this.#refuse(socket, claimed, err)
      }
    }
    socket.on('message', onMessage)
    socket.once('close', () => { if (!done) finish() })
    socket.send(encodeHandshake({ t: 'challenge', v: 1, cluster: this.#init.clusterId, node: this.localId, incarnation: this.#incarnation, nonce }))
  }

  // ---- links ---------------------------------------------------------------------------------

  /**
   * Makes `link` the peer's connection, or rejects it, so each pair keeps one logical connection:
   * - a link from another incarnation of the peer replaces the old one at once: the peer restarted
   *   and the old socket is dead even if TCP has not noticed yet;
   * - two links of the same incarnations in opposite directions are a simultaneous dial: both ends
   *   keep the one dialed by the smaller node id, so they agree without talking;
   * - otherwise (a redial in the same direction) the newer link wins.
   * Returns whether `link` was kept.
   */
  #install (peer: PeerState<M>, link: Link): boolean {
    if (!this.#started) {
      void closeSocket(link.socket, CloseCode.goingAway, 'stopping')
      return false
    }
    const existing = peer.link
    let restarted = false
    if (existing !== undefined) {
      if (existing.peerIncarnation !== link.peerIncarnation) {
        restarted = true
      } else if (existing.direction !== link.direction) {
        const preferred = this.localId < peer.id ? this.localId : peer.id
        if (existing.dialer(this.localId) === preferred) {
          link.retired = true
          void closeSocket(link.socket, CloseCode.superseded, 'simultaneous dial resolved')
          return false
        }
      }
      existing.retired = true
      void closeSocket(existing.socket, CloseCode.superseded, restarted ? 'peer restarted' : 'replaced by a newer connection')
    }
    peer.link = link
    peer.attempt = 0
    this.#cancelReconnect(peer)
    const socket = link.socket
    socket.on('message', (data, isBinary) => { this.#receive(link, data, isBinary) })
    if (link.direction === 'in') this.#inboundPeer.set(socket, link.peer)
    socket.once('close', (code, reason) => { this.#linkClosed(peer, link, code, reason.toString()) })
    if (existing === undefined || restarted) {
      if (restarted) this.safeDispatch('peer:disconnect', { peer: peer.id, reason: 'peer restarted' })
      this.#log.debug({ peer: peer.id, direction: link.direction }, 'peer connected')
      this.safeDispatch('peer:connect', { peer: peer.id })
    }
    if (!peer.queue.isEmpty) this.#scheduleFlush(peer)
    return true
  }

  #linkClosed (peer: PeerState<M>, link: Link, code: number, reason: string): void {
    if (link.retired || peer.link !== link) return
    link.retired = true
    peer.link = undefined
    const why = reason === '' ? `closed with code ${code}` : reason
    this.#log.debug({ peer: peer.id, code, reason }, 'peer disconnected')
    this.safeDispatch('peer:disconnect', { peer: peer.id, reason: why })
    if (peer.address === undefined) {
      // A peer that only ever dialed in (never added): nothing to redial, nothing to keep.
      if (this.#peers.get(peer.id) === peer) this.#peers.delete(peer.id)
      return
    }
    // The peer redials too; backoff with jitter keeps both from thrashing.
    this.#scheduleReconnect(peer)
  }

  #closeLink (link: Link, code: number, reason: string): void {
    const peer = this.#peers.get(link.peer)
    void closeSocket(link.socket, code, reason)
    if (peer !== undefined) this.#linkClosed(peer, link, code, reason)
    link.retired = true
  }

  #receive (link: Link, data: RawData, isBinary: boolean): void {
    if (link.retired) return
    let frame: unknown[]
    try {
      if (!isBinary) throw new BadFrameError('text frame')
      const bytes = toBuffer(data)
      this.#stats.framesReceived++
      this.#stats.bytesReceived += bytes.length
      frame = link.codec.decode(bytes)
      const guard = this.#init.isMessage
      if (guard !== undefined) {
        for (let i = 1; i < frame.length; i++) if (!guard(frame[i])) throw new BadFrameError(`message ${i - 1} of the frame has the wrong shape`)
      }
    } catch (err) {
      this.#badInput(link, err)
      return
    }
    for (let i = 1; i < frame.length; i++) {
      this.#stats.messagesReceived++
      const message = frame[i] as M
      for (const handler of this.#handlers) {
        try {
          handler(link.peer, message)
        } catch (err) {
          this.#log.error({ peer: link.peer, err: (err as Error).message }, 'message handler threw')
        }
      }
      // A handler may have stopped the transport or removed the peer.
      if (link.retired) return
    }
  }

  #badInput (link: Link, err: unknown): void {
    const code = isSynodError(err) ? err.code : BadFrameError.code
    const message = err instanceof Error ? err.message : String(err)
    if (code === BadFrameError.code) this.#stats.badFrames++
    this.#log.warn({ peer: link.peer, code, reason: message }, 'closing peer connection after bad input')
    this.safeDispatch('peer:error', { peer: link.peer, code, message })
    this.#closeLink(link, code === UnauthorizedError.code ? CloseCode.unauthorized : CloseCode.badFrame, code)
  }

  /** Refuses a connection during the handshake with a logged reason. */
  #refuse (socket: WebSocket, peer: NodeId | undefined, err: unknown, closeCode?: number): void {
    const code = isSynodError(err) ? err.code : BadFrameError.code
    const message = err instanceof Error ? err.message : String(err)
    if (code === BadFrameError.code) this.#stats.badFrames++
    else this.#stats.refused++
    this.#log.warn({ peer, code, reason: message }, 'refused peer connection')
    this.safeDispatch('peer:error', { peer, code, message })
    void closeSocket(socket, closeCode ?? (code === UnauthorizedError.code ? CloseCode.unauthorized : CloseCode.badFrame), code)
  }

  /** ws reports protocol violations (oversized frame, bad opcode, bad UTF-8) as socket errors. */
  #onSocketError (socket: WebSocket, peer: NodeId | undefined, err: Error): void {
    const wsCode = (err as { code?: string }).code
    if (wsCode !== undefined && TLS_REFUSAL.test(wsCode)) {
      this.#stats.refused++
      this.#log.warn({ peer, code: UnauthorizedError.code, reason: `TLS: ${err.message}` }, 'TLS handshake failed')
      this.safeDispatch('peer:error', { peer, code: UnauthorizedError.code, message: `TLS: ${err.message}` })
      return
    }
    if (wsCode === undefined || !wsCode.startsWith('WS_ERR_')) {
      this.#log.debug({ peer, err: err.message }, 'socket error')
      return
    }
    this.#stats.badFrames++
    this.#log.warn({ peer, code: BadFrameError.code, reason: err.message }, 'closing connection after a protocol violation')
    this.safeDispatch('peer:error', { peer, code: BadFrameError.code, message: err.message })
    // ws already fails the connection; this makes sure it is gone.
    socket.terminate()
  }
}

/** Error codes of a failed certificate check or a TLS alert from the other side. */
const TLS_REFUSAL = /^(ERR_SSL_|ERR_TLS_CERT|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT)/

function zeroMask (mask: Buffer): void {
  mask.fill(0)
}

function toBuffer (data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

/** Closes `socket` with a close frame; resolves once it is closed (terminated after 1 s at most). */
async function closeSocket (socket: WebSocket, code: number, reason: string): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { socket.terminate() }, 1000)
    timer.unref()
    socket.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
    else socket.close(code, reason.slice(0, 120))
  })
}

/**
 * Creates a peer transport over WebSocket and MessagePack. Nothing listens or dials until
 * `start()`; peers are dialed on the first `send` to them.
 */
export function createWsTransport<M = unknown> (init: WsTransportInit<M>, components: WsTransportComponents = {}): WsTransport<M> {
  return new WsTransportImpl<M>(init, components)
}
