/** WebSocket close codes used between Synod peers (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  badFrame: 4400,
  unauthorized: 4401,
  handshakeTimeout: 4408,
  /** The connection lost to another one for the same peer pair (restart or simultaneous dial). */
  superseded: 4409,
  tooManyHandshakes: 4429
} as const
