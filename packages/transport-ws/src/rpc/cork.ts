import type { WebSocket } from 'ws'
import type { Writable } from 'node:stream'

/**
 * Sends frames on `ws`, coalescing every frame sent in one run of the microtask queue into one
 * socket write.
 *
 * A node answers several requests of one connection from one apply batch (a lock release and the
 * grant it hands to the next waiter are one entry), and a client sends several requests from one
 * read (the next acquire and the next release). `ws` writes each frame on its own, so each becomes
 * its own `writev` and, on the other side, often its own read and its own event-loop turn: a
 * request that could have joined the batch before it waits for the next one. Corking the socket
 * until the current callback and its microtasks are done makes them one write; a lone frame still
 * leaves in the same turn.
 *
 * `ws` keeps its socket in `_socket` (not public API, stable across ws 8): without one, frames are
 * sent as they come.
 */
export function createCorkedSender (ws: WebSocket): (frame: Buffer) => void {
  let corked = false
  const uncork = (socket: Writable): void => {
    corked = false
    socket.uncork()
  }
  return (frame) => {
    const socket = (ws as unknown as { _socket?: Writable | null })._socket
    if (!corked && socket != null && typeof socket.cork === 'function') {
      corked = true
      socket.cork()
      // process.nextTick queued from a microtask runs once the microtask queue is drained, so
      // every answer resolved by the same read (and the promise chains it starts) joins this write.
      process.nextTick(uncork, socket)
    }
    ws.send(frame)
  }
}
