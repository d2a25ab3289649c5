import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Writable } from 'node:stream'
import type { WebSocket } from 'ws'
import { createCorkedSender } from '../src/rpc/cork.js'
import { backoffDelay, resolveBackoff } from '../src/peer/backoff.js'
import { SendQueue } from '../src/peer/send-queue.js'
import { estimateSize } from '../src/peer/size.js'
import { FrameCodec } from '../src/wire/codec.js'
import { dialerProof, listenerProof, newNonce, parseAuth, parseChallenge, proofMatches, encodeHandshake } from '../src/wire/handshake.js'

const seeded = (values: number[]): { next: () => number, int: (n: number) => number } => {
  let i = 0
  const next = (): number => values[i++ % values.length]!
  return { next, int: (n) => Math.floor(next() * n) }
}

describe('backoff', () => {
  it('grows exponentially to the cap and jitters down by at most the jitter fraction', () => {
    fc.assert(fc.property(fc.nat({ max: 80 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (attempt, draw) => {
      const options = resolveBackoff({ initialMs: 10, maxMs: 1000, multiplier: 2, jitter: 0.5 })
      const base = Math.min(1000, 10 * 2 ** attempt)
      const delay = backoffDelay(options, attempt, seeded([draw]))
      expect(delay).toBeLessThanOrEqual(base)
      expect(delay).toBeGreaterThanOrEqual(base * 0.5)
    }), { seed: 7 })
  })

  it('uses the defaults when nothing is configured', () => {
    expect(resolveBackoff(undefined)).toEqual({ initialMs: 50, maxMs: 5000, multiplier: 2, jitter: 0.5 })
  })
})

describe('send queue', () => {
  it('never exceeds its bounds and keeps FIFO order within each lane', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), size: fc.integer({ min: 1, max: 400 }), bulk: fc.boolean() }),
      fc.record({ kind: fc.constant('control' as const), budget: fc.integer({ min: 1, max: 800 }) }),
      fc.record({ kind: fc.constant('bulk' as const) })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const queue = new SendQueue<number>(16, 2000)
      let seq = 0
      const pushed = { control: [] as number[], bulk: [] as number[] }
      const taken = { control: [] as number[], bulk: [] as number[] }
      for (const o of ops) {
        if (o.kind === 'push') {
          const before = { count: queue.count, bytes: queue.bytes }
          const accepted = queue.push(seq, o.size, o.bulk)
          expect(accepted).toBe(before.count < 16 && before.bytes + o.size <= 2000)
          if (accepted) (o.bulk ? pushed.bulk : pushed.control).push(seq)
          seq++
        } else if (o.kind === 'control') {
          const frame: unknown[] = []
          queue.takeControl(frame, o.budget)
          taken.control.push(...(frame as number[]))
        } else {
          const next = queue.shiftBulk()
          if (next !== undefined) taken.bulk.push(next)
        }
        expect(queue.count).toBeLessThanOrEqual(16)
        expect(queue.bytes).toBeLessThanOrEqual(2000)
        expect(queue.count).toBe(pushed.control.length + pushed.bulk.length - taken.control.length - taken.bulk.length)
      }
      expect(taken.control).toEqual(pushed.control.slice(0, taken.control.length))
      expect(taken.bulk).toEqual(pushed.bulk.slice(0, taken.bulk.length))
    }), { seed: 11 })
  })
})

describe('frame codec', () => {
  it('round-trips plain data across frames that share record shapes', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (frames) => {
      const sender = new FrameCodec(true)
      const receiver = new FrameCodec(true)
      for (const messages of frames) {
        const decoded = receiver.decode(sender.encode([1, ...messages]))
        expect(decoded.slice(1)).toEqual(JSON.parse(JSON.stringify(messages)))
      }
    }), { seed: 3, numRuns: 200 })
  })

  it('hands binary payloads out as views of the received frame, without copying', () => {
    const payload = Buffer.alloc(4096, 9)
    const bytes = new FrameCodec(true).encode([1, { data: payload }])
    const [, message] = new FrameCodec(true).decode(bytes) as [number, { data: Uint8Array }]
    expect(message.data.buffer).toBe(bytes.buffer)
    expect(Buffer.from(message.data).equals(payload)).toBe(true)
  })

  it('rejects malformed bytes, trailing bytes and wrong envelopes with ERR_BAD_FRAME', () => {
    const codec = (): FrameCodec => new FrameCodec(true)
    const good = codec().encode([1, 'x'])
    for (const bad of [Buffer.from([0xc1]), Buffer.concat([good, Buffer.from([0])]), codec().encode([2, 'x']), codec().encode([1]), codec().encode({ not: "an array" } as unknown as unknown[]), good.subarray(0, 2)]) {
      expect(() => codec().decode(bad)).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    }
  })
})

describe('handshake', () => {
  const input = { cluster: 'c', dialer: 'a', listener: 'b', incarnation: 'i', listenerNonce: newNonce(), dialerNonce: newNonce() }
  const secret = Buffer.from('0123456789abcdef0123')

  it('binds proofs to the secret, the role, every id and both nonces', () => {
    const proof = dialerProof(secret, input)
    expect(proofMatches(proof, dialerProof(secret, input))).toBe(true)
    expect(proofMatches(proof, listenerProof(secret, input))).toBe(false)
    expect(proofMatches(proof, dialerProof(Buffer.from('another-secret-0000'), input))).toBe(false)
    for (const change of [{ cluster: 'd' }, { dialer: 'x' }, { listener: 'x' }, { incarnation: 'j' }, { listenerNonce: newNonce() }, { dialerNonce: newNonce() }]) {
      expect(proofMatches(proof, dialerProof(secret, { ...input, ...change }))).toBe(false)
    }
    // Length-prefixed fields: moving a character between ids changes the proof.
    expect(proofMatches(dialerProof(secret, { ...input, dialer: 'ab', listener: 'c' }), dialerProof(secret, { ...input, dialer: 'a', listener: 'bc' }))).toBe(false)
    expect(proofMatches(new Uint8Array(3), proof)).toBe(false)
  })

  it('parses only well-formed frames of the expected type', () => {
    const challenge = encodeHandshake({ t: 'challenge', v: 1, cluster: 'c', node: 'b', incarnation: 'i', nonce: newNonce() })
    expect(parseChallenge(challenge, true).node).toBe('b')
    expect(() => parseAuth(challenge, true)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }))
    expect(() => parseChallenge(challenge, false)).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    expect(() => parseChallenge(Buffer.alloc(4096), true)).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    const shortNonce = encodeHandshake({ t: 'challenge', v: 1, cluster: 'c', node: 'b', incarnation: 'i', nonce: new Uint8Array(4) })
    expect(() => parseChallenge(shortNonce, true)).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
  })
})

describe('size estimate', () => {
  it('counts binary payloads exactly and never returns less than one byte', () => {
    expect(estimateSize(new Uint8Array(1000))).toBe(1005)
    expect(estimateSize({ data: new Uint8Array(1000) })).toBeGreaterThan(1000)
    fc.assert(fc.property(fc.jsonValue(), (value) => { expect(estimateSize(value)).toBeGreaterThanOrEqual(1) }), { seed: 5 })
  })
})

describe('corked sender', () => {
  /** A fake `ws` whose socket records each write the kernel would see (one `writev` per entry). */
  const fakeSocket = (): { ws: WebSocket, writes: string[][] } => {
    const writes: string[][] = []
    const socket = new Writable({
      write (chunk: Buffer, _encoding, done) { writes.push([chunk.toString()]); done() },
      writev (chunks, done) { writes.push(chunks.map(({ chunk }) => (chunk as Buffer).toString())); done() }
    })
    const ws = { _socket: socket, send (frame: Buffer) { socket.write(frame) } }
    return { ws: ws as unknown as WebSocket, writes }
  }

  it('makes the frames sent in one turn, across promise continuations, one write', async () => {
    const { ws, writes } = fakeSocket()
    const send = createCorkedSender(ws)
    send(Buffer.from('a'))
    await Promise.resolve()
    send(Buffer.from('b'))
    void Promise.resolve().then(() => { send(Buffer.from('c')) })
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual([['a', 'b', 'c']])
  })

  it('sends frames of later turns as their own writes', async () => {
    const { ws, writes } = fakeSocket()
    const send = createCorkedSender(ws)
    send(Buffer.from('a'))
    await new Promise((resolve) => setImmediate(resolve))
    send(Buffer.from('b'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual([['a'], ['b']])
  })

  it('sends straight through when the WebSocket has no socket', () => {
    const sent: string[] = []
    const ws = { _socket: null, send (frame: Buffer) { sent.push(frame.toString()) } } as unknown as WebSocket
    createCorkedSender(ws)(Buffer.from('x'))
    expect(sent).toEqual(['x'])
  })
})
