/**
 * The peer handshake: an HMAC-SHA256 challenge-response over the shared cluster secret, in both
 * directions, so neither side ever sends the secret or a replayable proof.
 *
 * ```
 * listener -> dialer   challenge { cluster, node, incarnation, nonce_L }
 * dialer   -> listener auth      { cluster, node, target, incarnation, nonce_D,
 *                                  proof = HMAC(secret, "dialer", cluster, dialer, listener, inc_D, nonce_L, nonce_D) }
 * listener -> dialer   welcome   { proof = HMAC(secret, "listener", cluster, listener, dialer, inc_L, nonce_L, nonce_D) }
 * ```
 *
 * Each proof covers both fresh nonces, so a recorded exchange is useless on another connection; the
 * role label keeps a dialer's proof from being reflected back as a listener's. The incarnation is a
 * random id drawn at each `start()`: it tells a restarted peer apart from a second connection of the
 * same process (see `transport.ts`, link resolution). Frames are plain MessagePack maps (no records),
 * decoded with a size cap before anything is trusted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { pack, unpack } from 'msgpackr'
import { BadFrameError, UnauthorizedError } from '@synod/interfaces'

const PROTOCOL = 'synod-peer/1'
const NONCE_BYTES = 32
/** No handshake frame is larger; a bigger one is refused before decoding. */
export const MAX_HANDSHAKE_BYTES = 2048
/** Longest node id, cluster id or incarnation accepted. */
const MAX_ID_LENGTH = 256

export interface Challenge { t: 'challenge', v: 1, cluster: string, node: string, incarnation: string, nonce: Uint8Array }
export interface Auth { t: 'auth', v: 1, cluster: string, node: string, target: string, incarnation: string, nonce: Uint8Array, proof: Uint8Array }
export interface Welcome { t: 'welcome', v: 1, proof: Uint8Array }

export function newNonce (): Uint8Array {
  return randomBytes(NONCE_BYTES)
}

export function newIncarnation (): string {
  return randomBytes(12).toString('base64url')
}

/** HMAC over length-prefixed fields, so no two different field lists hash the same bytes. */
function mac (secret: Uint8Array, fields: Array<string | Uint8Array>): Buffer {
  const hmac = createHmac('sha256', secret)
  const length = Buffer.alloc(4)
  for (const field of fields) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field
    length.writeUInt32BE(bytes.length)
    hmac.update(length)
    hmac.update(bytes)
  }
  return hmac.digest()
}

export interface ProofInput {
  cluster: string
  dialer: string
  listener: string
  /** Incarnation of the side that proves. */
  incarnation: string
  listenerNonce: Uint8Array
  dialerNonce: Uint8Array
}

export function dialerProof (secret: Uint8Array, input: ProofInput): Buffer {
  return mac(secret, [PROTOCOL, 'dialer', input.cluster, input.dialer, input.listener, input.incarnation, input.listenerNonce, input.dialerNonce])
}

export function listenerProof (secret: Uint8Array, input: ProofInput): Buffer {
  return mac(secret, [PROTOCOL, 'listener', input.cluster, input.listener, input.dialer, input.incarnation, input.listenerNonce, input.dialerNonce])
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches (received: Uint8Array, expected: Buffer): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected)
}

export function encodeHandshake (frame: Challenge | Auth | Welcome): Buffer {
  return pack(frame)
}

function isId (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}

function isBytes (value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length)
}

/**
 * Decodes a handshake frame of the expected type. Undecodable bytes are `ERR_BAD_FRAME`; a
 * well-formed frame of another type (a data frame sent before the handshake) is `ERR_UNAUTHORIZED`.
 */
function decode (bytes: Buffer, isBinary: boolean): Record<string, unknown> {
  if (!isBinary) throw new BadFrameError('text frame during the handshake')
  if (bytes.length > MAX_HANDSHAKE_BYTES) throw new BadFrameError(`handshake frame of ${bytes.length} bytes`)
  let value: unknown
  try {
    value = unpack(bytes)
  } catch (err) {
    throw new BadFrameError('malformed handshake frame', { cause: err })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new UnauthorizedError('a frame other than the handshake arrived before authentication')
  }
  return value as Record<string, unknown>
}

export function parseChallenge (bytes: Buffer, isBinary: boolean): Challenge {
  const frame = decode(bytes, isBinary)
  if (frame.t !== 'challenge') throw new UnauthorizedError('expected a handshake challenge')
  if (frame.v !== 1 || !isId(frame.cluster) || !isId(frame.node) || !isId(frame.incarnation) || !isBytes(frame.nonce, NONCE_BYTES)) {
    throw new BadFrameError('malformed handshake challenge')
  }
  return frame as unknown as Challenge
}

export function parseAuth (bytes: Buffer, isBinary: boolean): Auth {
  const frame = decode(bytes, isBinary)
  if (frame.t !== 'auth') throw new UnauthorizedError('expected a handshake response')
  if (frame.v !== 1 || !isId(frame.cluster) || !isId(frame.node) || !isId(frame.target) || !isId(frame.incarnation) ||
    !isBytes(frame.nonce, NONCE_BYTES) || !isBytes(frame.proof)) {
    throw new BadFrameError('malformed handshake response')
  }
  return frame as unknown as Auth
}

export function parseWelcome (bytes: Buffer, isBinary: boolean): Welcome {
  const frame = decode(bytes, isBinary)
  if (frame.t !== 'welcome') throw new UnauthorizedError('expected a handshake welcome')
  if (frame.v !== 1 || !isBytes(frame.proof)) throw new BadFrameError('malformed handshake welcome')
  return frame as unknown as Welcome
}
