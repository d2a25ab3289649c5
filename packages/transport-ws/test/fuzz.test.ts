import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { pack } from 'msgpackr'
import type { WsTransport } from '../src/index.js'
import { FrameCodec } from '../src/wire/codec.js'
import { dialerProof, encodeHandshake, newIncarnation, newNonce } from '../src/wire/handshake.js'
import { CLUSTER, SECRET, handshakeBy, testTransport, waitFor } from './helpers.js'
import { Opcode, clientFrame, sendRaw } from './raw-tcp.js'

/**
 * Writes at least 10,000 random and mutated frames at a live node (`c`) on 127.0.0.1 while two
 * legitimate peers keep exchanging messages through it. Every pre-handshake frame goes on its own
 * connection, so each one is actually parsed by the node (it closes a connection at its first bad
 * frame and ignores the rest); an authenticated fuzzer sends runs of random-valued frames, each run
 * ended by a mutated one. Only frames the node actually processed are counted.
 */

const MAX_FRAME = 64 * 1024
const SEED = 20261128

type Mutation =
  | { kind: 'flip', at: number, value: number }
  | { kind: 'truncate', at: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'repeat' }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('repeat' as const) })
)

function mutate (base: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(base)
  for (const m of mutations) {
    if (bytes.length === 0) break
    const at = m.kind === 'repeat' ? 0 : m.at % bytes.length
    if (m.kind === 'flip') bytes[at] = m.value
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at)
    else if (m.kind === 'insert') bytes = Uint8Array.from([...bytes.slice(0, at), ...m.bytes, ...bytes.slice(at)])
    else bytes = Uint8Array.from([...bytes, ...bytes])
  }
  return bytes
}

/** A well-formed handshake response (with a proof for no particular challenge) to mutate. */
const authFrame = encodeHandshake({ t: 'auth', v: 1, cluster: CLUSTER, node: 'z', target: 'c', incarnation: newIncarnation(), nonce: newNonce(), proof: dialerProof(Buffer.from(SECRET), { cluster: CLUSTER, dialer: 'z', listener: 'c', incarnation: 'i', listenerNonce: newNonce(), dialerNonce: newNonce() }) })

/** Raft-shaped messages, as a real peer would send them. */
const raftMessage = fc.oneof(
  fc.record({ type: fc.constant('append'), term: fc.nat(), leaderId: fc.string(), prevLogIndex: fc.nat(), entries: fc.array(fc.record({ index: fc.nat(), data: fc.uint8Array({ maxLength: 32 }) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('vote'), term: fc.nat(), granted: fc.boolean() })
)

/** Bytes written right after the WebSocket upgrade of a fresh, unauthenticated connection. */
const preAuthBytes: fc.Arbitrary<Buffer> = fc.oneof(
  // Random payloads in a well-formed binary frame.
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => clientFrame(bytes, Opcode.binary)) },
  // Mutated handshake responses.
  { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => clientFrame(mutate(authFrame, ms), Opcode.binary)) },
  // Valid MessagePack of the wrong shape.
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }).map((value) => clientFrame(pack(value), Opcode.binary)) },
  // Text frames (possibly invalid UTF-8).
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((bytes) => clientFrame(bytes, Opcode.text)) },
  // A header announcing a frame over the limit.
  { weight: 1, arbitrary: fc.integer({ min: MAX_FRAME + 1, max: 2 ** 40 }).map((size) => clientFrame(new Uint8Array(8), Opcode.binary, size)) },
  // Garbage at the WebSocket framing level (bad opcodes, reserved bits, unmasked frames).
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)) }
)

/**
 * Frames for an authenticated connection: mostly well-formed frames of random values (they reach
 * the handler; the node has no isMessage guard), the rest mutated frames and random bytes, which
 * close the connection.
 */
type PostAuth = { kind: 'values', values: unknown[] } | { kind: 'bytes', bytes: Uint8Array }
const postAuthFrame: fc.Arbitrary<PostAuth> = fc.oneof(
  { weight: 100, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: raftMessage }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 3 }) }), { minLength: 1, maxLength: 4 }).map((values): PostAuth => ({ kind: 'values', values })) },
  { weight: 1, arbitrary: fc.tuple(fc.array(raftMessage, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([messages, ms]): PostAuth => ({ kind: 'bytes', bytes: mutate(new FrameCodec(true).encode([1, ...messages]), ms) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): PostAuth => ({ kind: 'bytes', bytes })) }
)

describe('fuzz: random and mutated frames at a live node', () => {
  let a: WsTransport, b: WsTransport, c: WsTransport
  /** Sequence numbers a delivered to c and c delivered to b. */
  const seqsAtC = new Set<number>()
  const seqsAtB = new Set<number>()
  /** Senders of everything c received. */
  const sendersAtC = new Set<string>()
  const problems: unknown[] = []
  const onProblem = (err: unknown): void => { problems.push(err) }

  beforeAll(async () => {
    process.on('unhandledRejection', onProblem)
    process.on('uncaughtException', onProblem)
    c = testTransport('c', { maxFrameBytes: MAX_FRAME, handshakeTimeoutMs: 2000, maxPendingHandshakes: 256 })
    a = testTransport('a')
    b = testTransport('b')
    for (const t of [a, b, c]) await t.start()
    a.addPeer('c', c.address!)
    c.addPeer('a', a.address!)
    b.addPeer('c', c.address!)
    c.addPeer('b', b.address!)
    c.onMessage((from, message) => {
      sendersAtC.add(from)
      if (from === 'a') seqsAtC.add((message as { seq: number }).seq)
    })
    b.onMessage((_from, message) => { seqsAtB.add((message as { seq: number }).seq) })
  })

  afterAll(async () => {
    for (const t of [a, b, c]) await t.stop()
    process.off('unhandledRejection', onProblem)
    process.off('uncaughtException', onProblem)
  })

  let round = 0
  /** a -> c and c -> b must keep working. */
  async function exchange (): Promise<void> {
    const seq = ++round
    a.send('c', { seq })
    c.send('b', { seq })
    await waitFor(() => seqsAtC.has(seq) && seqsAtB.has(seq), `exchange ${seq}`, 30_000)
  }

  it('survives >= 10,000 frames: no crash, no unhandled rejection, peers keep exchanging', async () => {
    await exchange()
    const preAuth = fc.sample(preAuthBytes, { numRuns: 700, seed: SEED })
    const postAuth = fc.sample(postAuthFrame, { numRuns: 9500, seed: SEED + 1 })
    const port = Number(new URL(c.address!).port)
    const concurrency = 64
    for (let start = 0; start < preAuth.length; start += 1200) {
      const batch = preAuth.slice(start, start + 1200)
      let next = 0
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < batch.length) await sendRaw(port, batch[next++]!)
      }))
      await exchange()
    }
    // Authenticated as 'fuzzer': each connection writes frames up to and including a bad one.
    let postAuthSent = 0
    let i = 0
    // Distinct ids: a second connection from the same id would replace the first (newest wins).
    const fuzzer = async (id: string): Promise<void> => {
      while (i < postAuth.length) {
        const peer = await handshakeBy(c.address!, { nodeId: id, target: 'c', secret: SECRET })
        expect(peer.accepted).toBe(true)
        const codec = new FrameCodec(true)
        while (i < postAuth.length) {
          const frame = postAuth[i++]!
          postAuthSent++
          let bytes: Uint8Array
          try {
            bytes = frame.kind === 'values' ? codec.encode([1, ...frame.values]) : frame.bytes
          } catch {
            continue // fast-check made a value msgpackr cannot encode (a symbol key, say)
          }
          peer.socket.send(bytes)
          if (frame.kind === 'bytes') break
        }
        // A graceful close queues behind the frames, so the node reads them all first.
        peer.socket.close(1000)
      }
    }
    // Eight fuzzing connections at a time, while a and b keep exchanging through c.
    let fuzzing = true
    const bystanders = (async () => {
      while (fuzzing) {
        await exchange()
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    })()
    await Promise.all(Array.from({ length: 8 }, (_, k) => fuzzer(`fuzzer-${k + 1}`)))
    fuzzing = false
    await bystanders
    await exchange()

    const stats = c.stats()
    // Frames the node parsed from strangers and fuzzers (a's frames, at most one per exchange, excluded).
    const processed = stats.framesReceived - round + stats.refused + stats.badFrames
    expect(preAuth.length + postAuthSent).toBeGreaterThanOrEqual(10_000)
    expect(processed).toBeGreaterThanOrEqual(10_000)
    expect(stats.badFrames).toBeGreaterThan(400)
    expect(stats.refused).toBeGreaterThan(50)
    expect(stats.framesReceived).toBeGreaterThan(5000)
    // Strangers never got a message through; only the authenticated fuzzer and a did.
    expect([...sendersAtC].filter((from) => from !== 'a' && !from.startsWith('fuzzer-'))).toEqual([])
    expect(problems).toEqual([])
  }, 150_000)
})
