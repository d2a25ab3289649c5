import { connect } from 'node:net'

/** WebSocket opcodes used by the fuzzer. */
export const Opcode = { text: 0x1, binary: 0x2 } as const

/** Encodes one masked client frame (mask key 0, so the payload bytes are sent as they are). */
export function clientFrame (payload: Uint8Array, opcode: number, declaredLength = payload.length): Buffer {
  let header: Buffer
  if (declaredLength < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | declaredLength])
  } else if (declaredLength < 65536) {
    header = Buffer.alloc(4)
    header[0] = 0x80 | opcode
    header[1] = 0x80 | 126
    header.writeUInt16BE(declaredLength, 2)
  } else {
    header = Buffer.alloc(10)
    header[0] = 0x80 | opcode
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(BigInt(declaredLength), 2)
  }
  return Buffer.concat([header, Buffer.alloc(4), payload])
}

const upgrade = (port: number): string =>
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: c3lub2QtZnV6ei1rZXkwMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

/**
 * Opens a TCP connection, upgrades it to WebSocket and writes `bytes` right behind the upgrade
 * request, without a WebSocket client library (cheap enough to open thousands of connections).
 * Resolves with the close code the server sent (undefined if it just dropped the connection).
 */
export async function sendRaw (port: number, bytes: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let received = Buffer.alloc(0)
    let closeCode: number | undefined
    let settled = false
    const done = (): void => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(closeCode)
    }
    socket.on('error', done)
    socket.on('close', done)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      const headerEnd = received.indexOf('\r\n\r\n')
      if (headerEnd < 0) return
      let at = headerEnd + 4
      // Walk the server's (unmasked) frames until a close frame.
      while (at + 2 <= received.length) {
        const opcode = received[at]! & 0x0f
        let length = received[at + 1]! & 0x7f
        let offset = at + 2
        if (length === 126) {
          if (offset + 2 > received.length) return
          length = received.readUInt16BE(offset)
          offset += 2
        } else if (length === 127) {
          if (offset + 8 > received.length) return
          length = Number(received.readBigUInt64BE(offset))
          offset += 8
        }
        if (offset + length > received.length) return
        if (opcode === 0x8) {
          closeCode = length >= 2 ? received.readUInt16BE(offset) : undefined
          done()
          return
        }
        at = offset + length
      }
    })
    // Half-close after writing: a frame left incomplete by the fuzzer then ends the connection at
    // once instead of waiting for the node's handshake timeout.
    socket.end(Buffer.concat([Buffer.from(upgrade(port)), bytes]))
  })
}
